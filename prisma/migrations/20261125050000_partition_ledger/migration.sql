-- AlterTable
ALTER TABLE "Partition" ADD COLUMN     "ledger" JSONB;

