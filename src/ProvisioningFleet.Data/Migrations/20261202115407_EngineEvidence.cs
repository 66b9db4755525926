using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProvisioningFleet.Data.Migrations
{
    /// <inheritdoc />
    public partial class EngineEvidence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "system_task_excludes_after",
                table: "remediations",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "system_task_excludes_before",
                table: "remediations",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<string[]>(
                name: "task_sequence_signals",
                table: "devices",
                type: "text[]",
                nullable: true);

            migrationBuilder.AddColumn<string[]>(
                name: "task_sequence_signals",
                table: "device_state_changes",
                type: "text[]",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "system_task_excludes_after",
                table: "remediations");

            migrationBuilder.DropColumn(
                name: "system_task_excludes_before",
                table: "remediations");

            migrationBuilder.DropColumn(
                name: "task_sequence_signals",
                table: "devices");

            migrationBuilder.DropColumn(
                name: "task_sequence_signals",
                table: "device_state_changes");
        }
    }
}
