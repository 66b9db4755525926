using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ProvisioningFleet.Data.Notifications;

internal sealed class NotificationChannelConfiguration : IEntityTypeConfiguration<NotificationChannel>
{
    public void Configure(EntityTypeBuilder<NotificationChannel> channel)
    {
        channel.ToTable("notification_channels");
        channel.Property(c => c.Name).HasMaxLength(128);
        channel.HasIndex(c => c.Name).IsUnique();
        channel.Property(c => c.Kind).HasMaxLength(16);
        channel.Property(c => c.Url).HasMaxLength(2048);
        channel.Property(c => c.ProtectedUrl).HasMaxLength(8192);
        channel.Property(c => c.ProtectedSecret).HasMaxLength(8192);
    }
}

internal sealed class NotificationEventConfiguration : IEntityTypeConfiguration<NotificationEvent>
{
    public void Configure(EntityTypeBuilder<NotificationEvent> notificationEvent)
    {
        notificationEvent.ToTable("notification_events");
        notificationEvent.Property(e => e.Type).HasMaxLength(64);
        notificationEvent.Property(e => e.Data).HasColumnType("jsonb");
        // The dispatcher looks only at what is not yet queued; the index stays as small as that backlog.
        notificationEvent.HasIndex(e => e.Id, "ix_notification_events_undispatched").HasDatabaseName("ix_notification_events_undispatched")
            .HasFilter("dispatched_at IS NULL");
        notificationEvent.HasIndex(e => e.OccurredAt);
    }
}

internal sealed class NotificationQueueItemConfiguration : IEntityTypeConfiguration<NotificationQueueItem>
{
    public void Configure(EntityTypeBuilder<NotificationQueueItem> item)
    {
        item.ToTable("notification_queue");
        item.HasKey(q => new { q.ChannelId, q.EventId });
        item.HasOne<NotificationChannel>().WithMany().HasForeignKey(q => q.ChannelId).OnDelete(DeleteBehavior.Cascade);
        item.HasOne<NotificationEvent>().WithMany().HasForeignKey(q => q.EventId).OnDelete(DeleteBehavior.Cascade);
        item.HasIndex(q => q.EventId);
    }
}

internal sealed class NotificationDeliveryConfiguration : IEntityTypeConfiguration<NotificationDelivery>
{
    public void Configure(EntityTypeBuilder<NotificationDelivery> delivery)
    {
        delivery.ToTable("notification_deliveries");
        delivery.HasOne<NotificationChannel>().WithMany().HasForeignKey(d => d.ChannelId).OnDelete(DeleteBehavior.Cascade);
        delivery.Property(d => d.Type).HasMaxLength(64);
        delivery.Property(d => d.Status).HasMaxLength(16);
        delivery.Property(d => d.Error).HasMaxLength(4000);
        delivery.HasIndex(d => new { d.ChannelId, d.Id }).IsDescending(false, true);
        delivery.HasIndex(d => d.At);
    }
}
