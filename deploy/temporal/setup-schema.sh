#!/bin/sh
# Creates or upgrades Temporal's PostgreSQL schemas (idempotent).
set -eu
for db in temporal temporal_visibility; do
  schema=$([ "$db" = temporal ] && echo temporal || echo visibility)
  temporal-sql-tool --plugin postgres12 --ep postgresql -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" -p 5432 --db "$db" create || true
  temporal-sql-tool --plugin postgres12 --ep postgresql -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" -p 5432 --db "$db" setup-schema -v 0.0 || true
  temporal-sql-tool --plugin postgres12 --ep postgresql -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" -p 5432 --db "$db" \
    update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done
