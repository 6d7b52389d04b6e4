#!/usr/bin/env bash
# Adds an EF Core migration for both providers of the relational store (SQLite and PostgreSQL).
# Usage: scripts/add-migration.sh <MigrationName>
set -euo pipefail
name=${1:?usage: scripts/add-migration.sh <MigrationName>}
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
project=services/AgentPlatform.Infrastructure
dotnet build "$project" -v q -nologo >/dev/null
for provider in Sqlite Postgres; do
  dotnet ef migrations add "$name" --no-build --project "$project" --startup-project "$project" \
    --context "${provider}AgentPlatformDbContext" --output-dir "Persistence/Migrations/$provider"
done
