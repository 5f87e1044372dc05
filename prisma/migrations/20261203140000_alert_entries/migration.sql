-- One incident per partition: what the partition causes (threshold breaches, emergency, a pending recovery) is kept as entries on it.
ALTER TABLE "Alert" ADD COLUMN "entries" JSONB NOT NULL DEFAULT '[]';
