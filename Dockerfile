# syntax=docker/dockerfile:1
# ProvisioningFleet: the API host (default target) and the WinRM fleet simulator (target "simulator"),
# both published from one build stage and run as the image's non-root "app" user.
#   docker build -t provisioning-fleet .
#   docker build -t provisioning-fleet-simulator --target simulator .

ARG DOTNET_TAG=10.0-noble

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_TAG} AS build
WORKDIR /src
# Project files first, so that a code change does not invalidate the restored packages layer.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ProvisioningFleet.Api/ProvisioningFleet.Api.csproj src/ProvisioningFleet.Api/
COPY src/ProvisioningFleet.Core/ProvisioningFleet.Core.csproj src/ProvisioningFleet.Core/
COPY src/ProvisioningFleet.Data/ProvisioningFleet.Data.csproj src/ProvisioningFleet.Data/
COPY src/ProvisioningFleet.LocalServices/ProvisioningFleet.LocalServices.csproj src/ProvisioningFleet.LocalServices/
COPY src/ProvisioningFleet.WsMan/ProvisioningFleet.WsMan.csproj src/ProvisioningFleet.WsMan/
COPY src/ProvisioningFleet.Simulator/ProvisioningFleet.Simulator.csproj src/ProvisioningFleet.Simulator/
RUN dotnet restore src/ProvisioningFleet.Api/ProvisioningFleet.Api.csproj
COPY src/ src/
RUN dotnet publish src/ProvisioningFleet.Api/ProvisioningFleet.Api.csproj -c Release --no-restore -o /out/api \
 && dotnet publish src/ProvisioningFleet.Simulator/ProvisioningFleet.Simulator.csproj -c Release --no-restore -o /out/simulator

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_TAG} AS runtime
# GSS-API for Negotiate/Kerberos (libgssapi-krb5-2), its NTLM mechanism (gss-ntlmssp), and kinit/klist
# (krb5-user) for checking a keytab from inside the container; see deploy/kerberos.md.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgssapi-krb5-2 gss-ntlmssp krb5-user \
 && rm -rf /var/lib/apt/lists/*
ENV ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    KRB5_CONFIG=/etc/krb5.conf
WORKDIR /app
EXPOSE 8080

FROM runtime AS simulator
COPY --from=build --chown=root:root /out/simulator ./
# Where --export-csv writes the device list (a volume in docker-compose.yml): the one place it may write.
RUN mkdir -p /var/lib/simulator && chown "$APP_UID" /var/lib/simulator
EXPOSE 5985
# The image's built-in unprivileged user (uid 1654); the published files stay owned by root, read-only to it.
USER $APP_UID
ENTRYPOINT ["dotnet", "ProvisioningFleet.Simulator.dll"]

FROM runtime AS api
COPY --from=build --chown=root:root /out/api ./
USER $APP_UID
ENTRYPOINT ["dotnet", "ProvisioningFleet.Api.dll"]
