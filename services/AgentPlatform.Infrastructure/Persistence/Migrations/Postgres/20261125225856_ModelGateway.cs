using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AgentPlatform.Infrastructure.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ModelGateway : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "model_budgets",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    scope = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    subject_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    limit_micros = table.Column<long>(type: "bigint", nullable: false),
                    period = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_model_budgets", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "model_routes",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    alias = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    strategy = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    fallbacks = table.Column<List<string>>(type: "text[]", nullable: false),
                    description = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    version = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_model_routes", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "model_usage",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    occurred_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    day = table.Column<DateOnly>(type: "date", nullable: false),
                    subject = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    user_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    api_key_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    operation = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    model_requested = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    model_served = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    deployment = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    streamed = table.Column<bool>(type: "boolean", nullable: false),
                    attempt_count = table.Column<int>(type: "integer", nullable: false),
                    attempts = table.Column<string>(type: "character varying(8000)", maxLength: 8000, nullable: false),
                    input_tokens = table.Column<long>(type: "bigint", nullable: false),
                    output_tokens = table.Column<long>(type: "bigint", nullable: false),
                    cached_input_tokens = table.Column<long>(type: "bigint", nullable: false),
                    cost_micros = table.Column<long>(type: "bigint", nullable: false),
                    latency_milliseconds = table.Column<double>(type: "double precision", nullable: false),
                    outcome = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    status_code = table.Column<int>(type: "integer", nullable: false),
                    dry_run = table.Column<bool>(type: "boolean", nullable: false),
                    offline = table.Column<bool>(type: "boolean", nullable: false),
                    trace_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    task_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    main_agent_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    sub_agent_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_model_usage", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "provider_credentials",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    encrypted_secret = table.Column<string>(type: "text", nullable: false),
                    hint = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    created_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_provider_credentials", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "model_deployments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    route_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    provider = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    endpoint = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    credential_id = table.Column<Guid>(type: "uuid", nullable: true),
                    priority = table.Column<int>(type: "integer", nullable: false),
                    weight = table.Column<int>(type: "integer", nullable: false),
                    timeout = table.Column<TimeSpan>(type: "interval", nullable: false),
                    max_retries = table.Column<int>(type: "integer", nullable: false),
                    cooldown = table.Column<TimeSpan>(type: "interval", nullable: false),
                    context_window = table.Column<int>(type: "integer", nullable: false),
                    input_price_micros = table.Column<long>(type: "bigint", nullable: false),
                    output_price_micros = table.Column<long>(type: "bigint", nullable: false),
                    cached_input_price_micros = table.Column<long>(type: "bigint", nullable: false),
                    enabled = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_model_deployments", x => x.id);
                    table.ForeignKey(
                        name: "fk_model_deployments_model_routes_route_id",
                        column: x => x.route_id,
                        principalTable: "model_routes",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_model_budgets_tenant_id_scope_subject_id_period",
                table: "model_budgets",
                columns: new[] { "tenant_id", "scope", "subject_id", "period" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_model_deployments_route_id_name",
                table: "model_deployments",
                columns: new[] { "route_id", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_model_routes_tenant_id_alias",
                table: "model_routes",
                columns: new[] { "tenant_id", "alias" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_model_usage_tenant_id_api_key_id_day",
                table: "model_usage",
                columns: new[] { "tenant_id", "api_key_id", "day" });

            migrationBuilder.CreateIndex(
                name: "ix_model_usage_tenant_id_day",
                table: "model_usage",
                columns: new[] { "tenant_id", "day" });

            migrationBuilder.CreateIndex(
                name: "ix_model_usage_tenant_id_model_requested_day",
                table: "model_usage",
                columns: new[] { "tenant_id", "model_requested", "day" });

            migrationBuilder.CreateIndex(
                name: "ix_model_usage_tenant_id_task_id",
                table: "model_usage",
                columns: new[] { "tenant_id", "task_id" });

            migrationBuilder.CreateIndex(
                name: "ix_provider_credentials_tenant_id_name",
                table: "provider_credentials",
                columns: new[] { "tenant_id", "name" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_budgets");

            migrationBuilder.DropTable(
                name: "model_deployments");

            migrationBuilder.DropTable(
                name: "model_usage");

            migrationBuilder.DropTable(
                name: "provider_credentials");

            migrationBuilder.DropTable(
                name: "model_routes");
        }
    }
}
