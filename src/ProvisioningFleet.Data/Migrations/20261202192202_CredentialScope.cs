using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ProvisioningFleet.Data.Migrations
{
    /// <inheritdoc />
    public partial class CredentialScope : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string[]>(
                name: "allowed_authentications",
                table: "credentials",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'::text[]");

            migrationBuilder.AddColumn<string[]>(
                name: "allowed_hosts",
                table: "credentials",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'::text[]");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "allowed_authentications",
                table: "credentials");

            migrationBuilder.DropColumn(
                name: "allowed_hosts",
                table: "credentials");
        }
    }
}
