-- AlterTable
ALTER TABLE "AgentReport" ADD COLUMN     "nonce" TEXT;

-- CreateTable
CREATE TABLE "SignInThrottle" (
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "windowStartedAt" TIMESTAMP(3) NOT NULL,
    "lastFailedAt" TIMESTAMP(3) NOT NULL,
    "blockedUntil" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SignInThrottle_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "SignInThrottle_lastFailedAt_idx" ON "SignInThrottle"("lastFailedAt");

-- CreateIndex
CREATE INDEX "AgentReport_receivedAt_idx" ON "AgentReport"("receivedAt");

