using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProvisioningFleet.Data.Migrations
{
    /// <inheritdoc />
    public partial class ListIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_devices_host_name_key",
                table: "devices");

            migrationBuilder.DropIndex(
                name: "ix_devices_host_name_key1",
                table: "devices");

            migrationBuilder.DropIndex(
                name: "ix_devices_host_name_key2",
                table: "devices");

            migrationBuilder.DropIndex(
                name: "ix_devices_state_host_name_key",
                table: "devices");

            migrationBuilder.RenameIndex(
                name: "ix_sweeps_status1",
                table: "sweeps",
                newName: "ux_sweeps_one_running");

            migrationBuilder.RenameIndex(
                name: "ix_remediations_device_id",
                table: "remediations",
                newName: "ux_remediations_one_in_progress_per_device");

            migrationBuilder.AlterTable(
                name: "devices")
                .Annotation("Npgsql:StorageParameter:autovacuum_analyze_scale_factor", 0.02)
                .Annotation("Npgsql:StorageParameter:autovacuum_vacuum_scale_factor", 0.02)
                .Annotation("Npgsql:StorageParameter:fillfactor", 85);

            migrationBuilder.CreateIndex(
                name: "ix_devices_disabled_host_name_key",
                table: "devices",
                column: "host_name_key",
                filter: "NOT enabled")
                .Annotation("Npgsql:IndexInclude", new[] { "id" });

            migrationBuilder.CreateIndex(
                name: "ix_devices_host_name_key",
                table: "devices",
                column: "host_name_key",
                unique: true)
                .Annotation("Npgsql:IndexInclude", new[] { "id", "state", "enabled", "tag_keys" });

            migrationBuilder.CreateIndex(
                name: "ix_devices_host_name_key_trgm",
                table: "devices",
                column: "host_name_key")
                .Annotation("Npgsql:IndexMethod", "gist")
                .Annotation("Npgsql:IndexOperators", new[] { "gist_trgm_ops" });

            migrationBuilder.CreateIndex(
                name: "ix_devices_state_host_name_key",
                table: "devices",
                columns: new[] { "state", "host_name_key" })
                .Annotation("Npgsql:IndexInclude", new[] { "id", "enabled", "tag_keys" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_devices_disabled_host_name_key",
                table: "devices");

            migrationBuilder.DropIndex(
                name: "ix_devices_host_name_key",
                table: "devices");

            migrationBuilder.DropIndex(
                name: "ix_devices_host_name_key_trgm",
                table: "devices");

            migrationBuilder.DropIndex(
                name: "ix_devices_state_host_name_key",
                table: "devices");

            migrationBuilder.RenameIndex(
                name: "ux_sweeps_one_running",
                table: "sweeps",
                newName: "ix_sweeps_status1");

            migrationBuilder.RenameIndex(
                name: "ux_remediations_one_in_progress_per_device",
                table: "remediations",
                newName: "ix_remediations_device_id");

            migrationBuilder.AlterTable(
                name: "devices")
                .OldAnnotation("Npgsql:StorageParameter:autovacuum_analyze_scale_factor", 0.02)
                .OldAnnotation("Npgsql:StorageParameter:autovacuum_vacuum_scale_factor", 0.02)
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 85);

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
                name: "ix_devices_state_host_name_key",
                table: "devices",
                columns: new[] { "state", "host_name_key" });
        }
    }
}
