/**
 * What the PostgreSQL adapter installs on the primary (schema `faultline`, owned by the
 * superuser the agent connects as), and why:
 *
 * - `changes`: every row version written to a tracked table, stamped with an HLC at the
 *   write (`<ms since epoch>-<log id>-<cluster_name>`). A trigger-based log rather than
 *   logical decoding: it is an ordinary table, so physical replication carries it to
 *   every standby with the data, and after a promotion the new primary holds the very
 *   same versions up to the fork; each side's versions after it are exactly what
 *   diverged. A `test_decoding` slot lives on one server only (PostgreSQL 15 has no
 *   failover slots), pins WAL while its reader is away, and is gone after pg_rewind.
 * - `versions`: each key's latest version (and the resolved `floor`, see below), for
 *   the digest and for "is this write already on the new primary?" before a rewind.
 * - `fences`: the fences in force per server (`node` = cluster_name, so a fence row that
 *   replication copies elsewhere does not fence that other server).
 * - a statement trigger `faultline_guard` on every tracked table refusing writes of any
 *   non-superuser session while its server is fenced (SQLSTATE 25006). A client cannot
 *   lift it with SET: the fence table is the superuser's, and disabling triggers needs
 *   ownership of the table or `session_replication_role`, which is superuser-only.
 *
 * A key is `<schema>.<table>/<primary key as jsonb text>`, a value the row as jsonb text.
 */

/** Version of rows that existed before the adapter was installed: older than any write. */
export const initialHlc = '0000000000000000-00000000-init';

/** The statements that create the schema (idempotent; each runs on its own). */
export const installStatements: readonly string[] = [
  'create schema if not exists faultline',
  'revoke all on schema faultline from public',
  'grant usage on schema faultline to public',
  `create table if not exists faultline.changes (
     id bigserial primary key,
     tbl text not null,
     pk jsonb not null,
     hlc text collate "C" not null,
     row jsonb
   )`,
  'create index if not exists changes_hlc on faultline.changes (hlc)',
  `create table if not exists faultline.versions (
     tbl text not null,
     pk jsonb not null,
     hlc text collate "C" not null,
     floor text collate "C",
     row jsonb,
     primary key (tbl, pk)
   )`,
  `create table if not exists faultline.fences (
     node text not null,
     partition_id text not null,
     mode text not null check (mode in ('read-only', 'critical-only')),
     primary key (node, partition_id)
   )`,
  'grant select on faultline.fences to public',
  `create or replace function faultline.next_hlc(prev text, id bigint) returns text
   language plpgsql volatile set search_path = pg_catalog as $fn$
   declare
     node text := current_setting('cluster_name');
     stamped text := lpad((floor(extract(epoch from clock_timestamp()) * 1000))::bigint::text, 16, '0')
       || '-' || lpad(to_hex(id % 4294967296), 8, '0') || '-' || node;
   begin
     -- Hybrid logical time: never at or before the key's current version, even if this clock is behind.
     if prev is not null and prev >= stamped then
       return substr(prev, 1, 16) || '-'
         || lpad(to_hex(((('x' || substr(prev, 18, 8))::bit(32)::bigint) + 1) % 4294967296), 8, '0') || '-' || node;
     end if;
     return stamped;
   end $fn$`,
  `create or replace function faultline.record(t text, k jsonb, r jsonb) returns void
   language plpgsql security definer set search_path = pg_catalog, faultline as $fn$
   declare
     applied text := current_setting('faultline.apply_hlc', true);
     applied_floor text := current_setting('faultline.apply_floor', true);
     prev text;
     next_id bigint := nextval('faultline.changes_id_seq');
     h text;
   begin
     select v.hlc into prev from faultline.versions v where v.tbl = t and v.pk = k;
     if coalesce(applied, '') <> '' and (select rolsuper from pg_roles where rolname = session_user) then
       h := applied;
     else
       h := faultline.next_hlc(prev, next_id);
       applied_floor := null;
     end if;
     insert into faultline.changes (id, tbl, pk, hlc, row) values (next_id, t, k, h, r);
     insert into faultline.versions (tbl, pk, hlc, floor, row) values (t, k, h, nullif(applied_floor, ''), r)
       on conflict (tbl, pk) do update set hlc = excluded.hlc, row = excluded.row,
         floor = greatest(faultline.versions.floor, excluded.floor);
   end $fn$`,
  `create or replace function faultline.capture() returns trigger
   language plpgsql security definer set search_path = pg_catalog, faultline as $fn$
   declare
     t text := tg_table_schema || '.' || tg_table_name;
     old_key jsonb;
     new_key jsonb;
   begin
     if tg_op in ('UPDATE', 'DELETE') then
       select jsonb_object_agg(c, to_jsonb(old) -> c) into old_key from unnest(tg_argv) as c;
     end if;
     if tg_op in ('INSERT', 'UPDATE') then
       select jsonb_object_agg(c, to_jsonb(new) -> c) into new_key from unnest(tg_argv) as c;
     end if;
     if old_key is not null and old_key is distinct from new_key then
       perform faultline.record(t, old_key, null);
     end if;
     if new_key is not null then
       perform faultline.record(t, new_key, to_jsonb(new));
     end if;
     return null;
   end $fn$`,
  `create or replace function faultline.guard() returns trigger
   language plpgsql set search_path = pg_catalog as $fn$
   declare
     fenced text;
   begin
     if (select rolsuper from pg_roles where rolname = session_user) then
       return null;
     end if;
     select string_agg(f.mode || ' for partition ' || f.partition_id, ', ') into fenced
       from faultline.fences f
      where f.node = current_setting('cluster_name')
        and (f.mode = 'read-only' or coalesce(current_setting('faultline.critical', true), '') <> 'on');
     if fenced is not null then
       raise exception 'Faultline fence: writes refused on %: %', current_setting('cluster_name'), fenced
         using errcode = '25006';
     end if;
     return null;
   end $fn$`,
];

/** Tables the adapter tracks: ordinary tables outside system schemas and `faultline`, with a primary key. */
export const trackedTablesQuery = `
  select n.nspname as schema, c.relname as name, c.oid::regclass::text as ident,
         array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum)) as pk,
         exists (select 1 from pg_trigger t where t.tgrelid = c.oid and t.tgname = 'faultline_capture') as installed
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_index i on i.indrelid = c.oid and i.indisprimary
    join pg_attribute a on a.attrelid = c.oid and a.attnum = any (i.indkey)
   where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema', 'faultline') and n.nspname not like 'pg_%'
   group by n.nspname, c.relname, c.oid
   order by 1, 2`;

/** Quotes an identifier for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Statements that attach the guard and the capture to one table and record its existing rows. */
export function trackTableStatements(table: { schema: string; name: string; ident: string; pk: string[] }): string[] {
  const qualified = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const keyArgs = table.pk.map((column) => `'${column.replaceAll("'", "''")}'`).join(', ');
  const keyObject = table.pk.map((column) => `'${column.replaceAll("'", "''")}', to_jsonb(t) -> '${column.replaceAll("'", "''")}'`).join(', ');
  const name = `${table.schema}.${table.name}`.replaceAll("'", "''");
  return [
    `create trigger faultline_guard before insert or update or delete or truncate on ${qualified} for each statement execute function faultline.guard()`,
    `create trigger faultline_capture after insert or update or delete on ${qualified} for each row execute function faultline.capture(${keyArgs})`,
    `insert into faultline.versions (tbl, pk, hlc, row)
       select '${name}', jsonb_build_object(${keyObject}), '${initialHlc}', to_jsonb(t) from ${qualified} t
       on conflict do nothing`,
  ];
}
