-- Several server instances on one database (server/leadership.ts, server/README.md).

-- The lease of the leader: one row, whose epoch grows by one at every takeover (the fencing token in logs and /readyz).
CREATE TABLE "LeaderLease" (
    "id" INTEGER NOT NULL,
    "epoch" INTEGER NOT NULL,
    "holderId" TEXT NOT NULL,
    "acquiredAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LeaderLease_pkey" PRIMARY KEY ("id")
);

-- The instances running on this database, each refreshed every few seconds.
CREATE TABLE "ServerInstance" (
    "id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ServerInstance_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "ServerInstance_lastSeenAt_idx" ON "ServerInstance"("lastSeenAt");

-- @socket.io/postgres-adapter: messages over the NOTIFY limit of 8000 bytes travel through this table.
CREATE TABLE "socket_io_attachments" (
    "id" BIGSERIAL NOT NULL,
    "created_at" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    "payload" BYTEA
);

CREATE UNIQUE INDEX "socket_io_attachments_id_key" ON "socket_io_attachments"("id");

-- At most one open partition per cluster, whichever instance leads (not expressible in schema.prisma).
CREATE UNIQUE INDEX "Partition_one_open_per_cluster" ON "Partition"("clusterId") WHERE "endedAt" IS NULL;

-- At most one open recovery run per partition (openRecoveryStatuses in server/recovery/recovery-service.ts).
CREATE UNIQUE INDEX "RecoveryRun_one_open_per_partition" ON "RecoveryRun"("partitionId") WHERE "status" IN ('pending-approval', 'approved', 'running', 'paused');
