using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace ProvisioningFleet.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.CreateTable(
                name: "api_keys",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    prefix = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_api_keys", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audit_entries",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    actor = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    action = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    target = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    details = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_entries", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "credentials",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    user_name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    domain = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    protected_password = table.Column<string>(type: "character varying(8192)", maxLength: 8192, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_credentials", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "data_protection_keys",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    friendly_name = table.Column<string>(type: "text", nullable: true),
                    xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_data_protection_keys", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "fleet_policy",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    auto_remediate = table.Column<bool>(type: "boolean", nullable: false),
                    remediate_after_minutes = table.Column<int>(type: "integer", nullable: true),
                    grace_minutes = table.Column<int>(type: "integer", nullable: false),
                    max_remediations_per_sweep = table.Column<int>(type: "integer", nullable: false),
                    sweep_cron = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    trigger_policy_retrieval = table.Column<bool>(type: "boolean", nullable: false),
                    history_retention_days = table.Column<int>(type: "integer", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_by = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_fleet_policy", x => x.id);
                    table.CheckConstraint("ck_fleet_policy_single_row", "id = 1");
                });

            migrationBuilder.CreateTable(
                name: "sweeps",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    dry_run = table.Column<bool>(type: "boolean", nullable: false),
                    tag = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    requested_by = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    total = table.Column<int>(type: "integer", nullable: false),
                    probed = table.Column<int>(type: "integer", nullable: false),
                    by_state = table.Column<string>(type: "jsonb", nullable: false),
                    remediated = table.Column<int>(type: "integer", nullable: false),
                    remediations_failed = table.Column<int>(type: "integer", nullable: false),
                    skipped = table.Column<int>(type: "integer", nullable: false),
                    would_remediate = table.Column<int>(type: "integer", nullable: false),
                    cancel_requested = table.Column<bool>(type: "boolean", nullable: false),
                    round_trips = table.Column<long>(type: "bigint", nullable: false),
                    remediation_limit = table.Column<int>(type: "integer", nullable: false),
                    remediation_slots_used = table.Column<int>(type: "integer", nullable: false),
                    shard_count = table.Column<int>(type: "integer", nullable: false),
                    shards_completed = table.Column<int>(type: "integer", nullable: false),
                    error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sweeps", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "sweep_shards",
                columns: table => new
                {
                    sweep_id = table.Column<long>(type: "bigint", nullable: false),
                    index = table.Column<int>(type: "integer", nullable: false),
                    device_ids = table.Column<long[]>(type: "bigint[]", nullable: false),
                    processed_device_ids = table.Column<long[]>(type: "bigint[]", nullable: false),
                    job_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sweep_shards", x => new { x.sweep_id, x.index });
                    table.ForeignKey(
                        name: "fk_sweep_shards_sweeps_sweep_id",
                        column: x => x.sweep_id,
                        principalTable: "sweeps",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "device_state_changes",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    device_id = table.Column<long>(type: "bigint", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    from_state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    to_state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    sweep_id = table.Column<long>(type: "bigint", nullable: true),
                    in_provisioning_mode = table.Column<bool>(type: "boolean", nullable: true),
                    provisioning_enabled_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    overdue_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    task_sequence_running = table.Column<bool>(type: "boolean", nullable: true),
                    client_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    error_category = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    error_message = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    error_code = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_device_state_changes", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "devices",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    host_name = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    host_name_key = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    endpoint = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    transport = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    authentication = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    credential_id = table.Column<long>(type: "bigint", nullable: true),
                    tags = table.Column<string[]>(type: "text[]", nullable: false),
                    tag_keys = table.Column<string[]>(type: "text[]", nullable: false),
                    enabled = table.Column<bool>(type: "boolean", nullable: false, defaultValue: true),
                    remediation_excluded = table.Column<bool>(type: "boolean", nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, defaultValue: "Unknown"),
                    in_provisioning_mode = table.Column<bool>(type: "boolean", nullable: true),
                    provisioning_enabled_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    provisioning_max_minutes = table.Column<int>(type: "integer", nullable: true),
                    effective_timeout_minutes = table.Column<int>(type: "integer", nullable: true),
                    overdue_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    clock_skew_seconds = table.Column<int>(type: "integer", nullable: true),
                    task_sequence_running = table.Column<bool>(type: "boolean", nullable: true),
                    client_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    first_seen_in_provisioning_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_checked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_error_category = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    last_error_message = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    last_error_code = table.Column<long>(type: "bigint", nullable: true),
                    last_remediation_id = table.Column<long>(type: "bigint", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_devices", x => x.id);
                    table.ForeignKey(
                        name: "fk_devices_credentials_credential_id",
                        column: x => x.credential_id,
                        principalTable: "credentials",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "remediations",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    device_id = table.Column<long>(type: "bigint", nullable: false),
                    host_name = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    actor = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    sweep_id = table.Column<long>(type: "bigint", nullable: true),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    outcome = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    skip_reason = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    justification = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    @override = table.Column<bool>(name: "override", type: "boolean", nullable: false),
                    ignore_task_sequence = table.Column<bool>(type: "boolean", nullable: false),
                    verified = table.Column<bool>(type: "boolean", nullable: false),
                    client_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    fix_sent = table.Column<bool>(type: "boolean", nullable: false),
                    policy_retrieval_triggered = table.Column<bool>(type: "boolean", nullable: true),
                    policy_retrieval_error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    error_category = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    error_message = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    error_code = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_remediations", x => x.id);
                    table.ForeignKey(
                        name: "fk_remediations_devices_device_id",
                        column: x => x.device_id,
                        principalTable: "devices",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_remediations_sweeps_sweep_id",
                        column: x => x.sweep_id,
                        principalTable: "sweeps",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.InsertData(
                table: "fleet_policy",
                columns: new[] { "id", "auto_remediate", "grace_minutes", "history_retention_days", "max_remediations_per_sweep", "remediate_after_minutes", "sweep_cron", "trigger_policy_retrieval", "updated_at", "updated_by" },
                values: new object[] { 1, true, 60, 180, 500, null, "0 * * * *", true, null, null });

            migrationBuilder.CreateIndex(
                name: "ix_api_keys_prefix",
                table: "api_keys",
                column: "prefix");

            migrationBuilder.CreateIndex(
                name: "ix_audit_entries_actor_at",
                table: "audit_entries",
                columns: new[] { "actor", "at" },
                descending: new[] { false, true });

            migrationBuilder.CreateIndex(
                name: "ix_audit_entries_at",
                table: "audit_entries",
                column: "at",
                descending: new bool[0]);

            migrationBuilder.CreateIndex(
                name: "ix_credentials_name",
                table: "credentials",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_device_state_changes_at",
                table: "device_state_changes",
                column: "at");

            migrationBuilder.CreateIndex(
                name: "ix_device_state_changes_device_id_at",
                table: "device_state_changes",
                columns: new[] { "device_id", "at" },
                descending: new[] { false, true });

            migrationBuilder.CreateIndex(
                name: "ix_devices_credential_id",
                table: "devices",
                column: "credential_id");

            migrationBuilder.CreateIndex(
                name: "ix_devices_host_name_key",
                table: "devices",
                column: "host_name_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_devices_host_name_key1",
                table: "devices",
                column: "host_name_key",
                filter: "NOT enabled");

            migrationBuilder.CreateIndex(
                name: "ix_devices_host_name_key2",
                table: "devices",
                column: "host_name_key")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });

            migrationBuilder.CreateIndex(
                name: "ix_devices_last_remediation_id",
                table: "devices",
                column: "last_remediation_id");

            migrationBuilder.CreateIndex(
                name: "ix_devices_state_host_name_key",
                table: "devices",
                columns: new[] { "state", "host_name_key" });

            migrationBuilder.CreateIndex(
                name: "ix_devices_tag_keys",
                table: "devices",
                column: "tag_keys")
                .Annotation("Npgsql:IndexMethod", "gin");

            migrationBuilder.CreateIndex(
                name: "ix_remediations_device_id",
                table: "remediations",
                column: "device_id",
                unique: true,
                filter: "outcome = 'InProgress'");

            migrationBuilder.CreateIndex(
                name: "ix_remediations_device_id_requested_at",
                table: "remediations",
                columns: new[] { "device_id", "requested_at" },
                descending: new[] { false, true });

            migrationBuilder.CreateIndex(
                name: "ix_remediations_outcome_requested_at",
                table: "remediations",
                columns: new[] { "outcome", "requested_at" },
                descending: new[] { false, true });

            migrationBuilder.CreateIndex(
                name: "ix_remediations_requested_at",
                table: "remediations",
                column: "requested_at",
                descending: new bool[0]);

            migrationBuilder.CreateIndex(
                name: "ix_remediations_sweep_id_device_id",
                table: "remediations",
                columns: new[] { "sweep_id", "device_id" },
                unique: true,
                filter: "sweep_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_sweeps_requested_at",
                table: "sweeps",
                column: "requested_at",
                descending: new bool[0]);

            migrationBuilder.CreateIndex(
                name: "ix_sweeps_status",
                table: "sweeps",
                column: "status");

            migrationBuilder.CreateIndex(
                name: "ix_sweeps_status1",
                table: "sweeps",
                column: "status",
                unique: true,
                filter: "status = 'Running'");

            migrationBuilder.AddForeignKey(
                name: "fk_device_state_changes_devices_device_id",
                table: "device_state_changes",
                column: "device_id",
                principalTable: "devices",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "fk_devices_remediations_last_remediation_id",
                table: "devices",
                column: "last_remediation_id",
                principalTable: "remediations",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_remediations_devices_device_id",
                table: "remediations");

            migrationBuilder.DropTable(
                name: "api_keys");

            migrationBuilder.DropTable(
                name: "audit_entries");

            migrationBuilder.DropTable(
                name: "data_protection_keys");

            migrationBuilder.DropTable(
                name: "device_state_changes");

            migrationBuilder.DropTable(
                name: "fleet_policy");

            migrationBuilder.DropTable(
                name: "sweep_shards");

            migrationBuilder.DropTable(
                name: "devices");

            migrationBuilder.DropTable(
                name: "credentials");

            migrationBuilder.DropTable(
                name: "remediations");

            migrationBuilder.DropTable(
                name: "sweeps");
        }
    }
}
