using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProvisioningFleet.Data.Migrations
{
    /// <inheritdoc />
    public partial class DeviceServicePrincipalName : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "service_principal_name",
                table: "devices",
                type: "character varying(512)",
                maxLength: 512,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "service_principal_name",
                table: "devices");
        }
    }
}
