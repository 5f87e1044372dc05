-- AlterTable
ALTER TABLE "AgentReport" DROP CONSTRAINT "AgentReport_pkey",
ADD COLUMN     "outboxDepth" INTEGER,
ADD COLUMN     "outboxDropped" INTEGER,
ADD CONSTRAINT "AgentReport_pkey" PRIMARY KEY ("clusterId", "agentId", "incarnation", "sequence");

