-- AlterTable
ALTER TABLE "Partition" ADD COLUMN     "lifecycle" JSONB;

