using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace ProvisioningFleet.Data.Migrations
{
    /// <inheritdoc />
    public partial class InventorySources : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "disabled_by_source",
                table: "devices",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "expected_client_id",
                table: "devices",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "inventory_source_id",
                table: "devices",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "source_resource_id",
                table: "devices",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "inventory_sources",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    admin_service_url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    credential_id = table.Column<long>(type: "bigint", nullable: false),
                    certificate_sha256 = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    collection_ids = table.Column<string[]>(type: "text[]", nullable: false),
                    endpoint_template = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    authentication = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    device_credential_id = table.Column<long>(type: "bigint", nullable: true),
                    tags = table.Column<string[]>(type: "text[]", nullable: false),
                    sync_cron = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    on_removed = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    enabled = table.Column<bool>(type: "boolean", nullable: false, defaultValue: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_inventory_sources", x => x.id);
                    table.ForeignKey(
                        name: "fk_inventory_sources_credentials_credential_id",
                        column: x => x.credential_id,
                        principalTable: "credentials",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_inventory_sources_credentials_device_credential_id",
                        column: x => x.device_credential_id,
                        principalTable: "credentials",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "inventory_sync_runs",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    source_id = table.Column<long>(type: "bigint", nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    dry_run = table.Column<bool>(type: "boolean", nullable: false),
                    requested_by = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    seen = table.Column<int>(type: "integer", nullable: false),
                    created = table.Column<int>(type: "integer", nullable: false),
                    updated = table.Column<int>(type: "integer", nullable: false),
                    disabled = table.Column<int>(type: "integer", nullable: false),
                    deleted = table.Column<int>(type: "integer", nullable: false),
                    skipped = table.Column<string>(type: "jsonb", nullable: false),
                    error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_inventory_sync_runs", x => x.id);
                    table.ForeignKey(
                        name: "fk_inventory_sync_runs_inventory_sources_source_id",
                        column: x => x.source_id,
                        principalTable: "inventory_sources",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ux_devices_source_resource",
                table: "devices",
                columns: new[] { "inventory_source_id", "source_resource_id" },
                unique: true,
                filter: "inventory_source_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_inventory_sources_credential_id",
                table: "inventory_sources",
                column: "credential_id");

            migrationBuilder.CreateIndex(
                name: "ix_inventory_sources_device_credential_id",
                table: "inventory_sources",
                column: "device_credential_id");

            migrationBuilder.CreateIndex(
                name: "ix_inventory_sources_name",
                table: "inventory_sources",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_inventory_sync_runs_source_id_requested_at",
                table: "inventory_sync_runs",
                columns: new[] { "source_id", "requested_at" },
                descending: new[] { false, true });

            migrationBuilder.CreateIndex(
                name: "ux_inventory_sync_runs_one_in_progress",
                table: "inventory_sync_runs",
                column: "source_id",
                unique: true,
                filter: "status IN ('Queued', 'Running')");

            migrationBuilder.AddForeignKey(
                name: "fk_devices_inventory_sources_inventory_source_id",
                table: "devices",
                column: "inventory_source_id",
                principalTable: "inventory_sources",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_devices_inventory_sources_inventory_source_id",
                table: "devices");

            migrationBuilder.DropTable(
                name: "inventory_sync_runs");

            migrationBuilder.DropTable(
                name: "inventory_sources");

            migrationBuilder.DropIndex(
                name: "ux_devices_source_resource",
                table: "devices");

            migrationBuilder.DropColumn(
                name: "disabled_by_source",
                table: "devices");

            migrationBuilder.DropColumn(
                name: "expected_client_id",
                table: "devices");

            migrationBuilder.DropColumn(
                name: "inventory_source_id",
                table: "devices");

            migrationBuilder.DropColumn(
                name: "source_resource_id",
                table: "devices");
        }
    }
}
