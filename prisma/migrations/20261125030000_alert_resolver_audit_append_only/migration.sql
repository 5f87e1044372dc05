-- AlterTable
ALTER TABLE "Alert" ADD COLUMN     "resolvedBy" TEXT;


-- The audit log is append-only: the database itself refuses UPDATE, DELETE and
-- TRUNCATE of audit rows, whatever client issues them.
-- Prisma's driver-adapter migration runner splits a script on every semicolon, even
-- inside a function body, so the body's semicolons are written as the escape \073.
CREATE FUNCTION "audit_entry_append_only"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN RAISE EXCEPTION ''AuditEntry is append-only: % refused'', TG_OP\073 END\073';

CREATE TRIGGER "AuditEntry_no_update_delete"
  BEFORE UPDATE OR DELETE ON "AuditEntry"
  FOR EACH ROW EXECUTE FUNCTION "audit_entry_append_only"();

CREATE TRIGGER "AuditEntry_no_truncate"
  BEFORE TRUNCATE ON "AuditEntry"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_entry_append_only"();
