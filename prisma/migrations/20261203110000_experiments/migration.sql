-- Experiments (issue 10): runs, their steps, verdicts, samples, timeline, and the partitions they caused.
-- CreateTable
CREATE TABLE "ExperimentRun" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "scenario" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "startedBy" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "endedAt" TIMESTAMP(3),
    "file" JSONB NOT NULL,
    "plan" JSONB NOT NULL,
    "shapes" TEXT[],
    "affectedNodes" TEXT[],

    CONSTRAINT "ExperimentRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ExperimentStep" (
    "runId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "atMs" INTEGER NOT NULL,
    "appliedAt" TIMESTAMP(3),
    "description" TEXT NOT NULL,

    CONSTRAINT "ExperimentStep_pkey" PRIMARY KEY ("runId","index")
);

-- CreateTable
CREATE TABLE "ExperimentVerdict" (
    "runId" TEXT NOT NULL,
    "validator" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "evidence" JSONB NOT NULL,

    CONSTRAINT "ExperimentVerdict_pkey" PRIMARY KEY ("runId","validator")
);

-- CreateTable
CREATE TABLE "ExperimentSample" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "atMs" INTEGER NOT NULL,
    "availability" DOUBLE PRECISION,
    "divergence" DOUBLE PRECISION NOT NULL,
    "partitionType" TEXT,

    CONSTRAINT "ExperimentSample_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ExperimentEvent" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,

    CONSTRAINT "ExperimentEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ExperimentPartition" (
    "runId" TEXT NOT NULL,
    "partitionId" TEXT NOT NULL,

    CONSTRAINT "ExperimentPartition_pkey" PRIMARY KEY ("runId","partitionId")
);

-- CreateIndex
CREATE INDEX "ExperimentRun_clusterId_startedAt_idx" ON "ExperimentRun"("clusterId", "startedAt");

-- CreateIndex
CREATE INDEX "ExperimentSample_runId_atMs_idx" ON "ExperimentSample"("runId", "atMs");

-- CreateIndex
CREATE INDEX "ExperimentEvent_runId_at_idx" ON "ExperimentEvent"("runId", "at");

-- CreateIndex
CREATE INDEX "ExperimentPartition_partitionId_idx" ON "ExperimentPartition"("partitionId");

-- AddForeignKey
ALTER TABLE "ExperimentStep" ADD CONSTRAINT "ExperimentStep_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ExperimentRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentVerdict" ADD CONSTRAINT "ExperimentVerdict_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ExperimentRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentSample" ADD CONSTRAINT "ExperimentSample_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ExperimentRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentEvent" ADD CONSTRAINT "ExperimentEvent_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ExperimentRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentPartition" ADD CONSTRAINT "ExperimentPartition_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ExperimentRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentPartition" ADD CONSTRAINT "ExperimentPartition_partitionId_fkey" FOREIGN KEY ("partitionId") REFERENCES "Partition"("id") ON DELETE CASCADE ON UPDATE CASCADE;

