namespace ProvisioningFleet.Api.Engine;

/// <summary>The engine's knobs (configuration section <c>Fleet:Engine</c>); policy decisions live in the fleet policy instead.</summary>
public sealed class EngineOptions
{
    public const string Section = "Fleet:Engine";

    /// <summary>The deadline for probing one device.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The deadline for one device's remediation (re-read, fix, verification, schedule triggers).</summary>
    public TimeSpan RemediationTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public int VerifyAttempts { get; set; } = 5;

    public TimeSpan VerifyInterval { get; set; } = TimeSpan.FromSeconds(2.5);

    /// <summary>The limit for the fix call itself, inside <see cref="RemediationTimeout"/>; the time left is for verifying a call whose answer was lost.</summary>
    public TimeSpan FixCallTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Devices per shard job: small enough that a shard ends within minutes, large enough that Hangfire is not the bottleneck.</summary>
    public int ShardSize { get; set; } = 500;

    /// <summary>Devices probed at once within one shard.</summary>
    public int ProbeConcurrency { get; set; } = 64;

    /// <summary>Verdicts written to the database per batch (one transaction, with the sweep's counters).</summary>
    public int RecordBatchSize { get; set; } = 200;

    /// <summary>The longest a verdict waits before it is written, so that progress stays live on slow fleets.</summary>
    public TimeSpan RecordInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a queued sweep looks again whether the running one has finished.</summary>
    public TimeSpan QueuedSweepRetry { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An InProgress remediation older than this was interrupted by a crash (the remote call is bounded by
    /// <see cref="RemediationTimeout"/>); it is reconciled (closed after re-reading the device) so that the device can be fixed again.
    /// </summary>
    public TimeSpan StaleRemediationAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often every instance closes InProgress remediations older than <see cref="StaleRemediationAfter"/>
    /// (also once at start-up), re-reading each device: see RemediationRunner.ReconcileAsync.
    /// </summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Hangfire workers on this instance; each runs one shard (or another job) at a time.</summary>
    public int WorkerCount { get; set; } = 4;

    /// <summary>Whether this instance runs background jobs at all (an API-only replica sets false).</summary>
    public bool RunJobs { get; set; } = true;

    /// <summary>How often idle workers look for new jobs besides PostgreSQL's notifications.</summary>
    public TimeSpan JobPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a job taken by a worker stays invisible to the others without that worker's heartbeat (sent every
    /// fifth of it while the job runs): after a crash, the dead process's shards and other jobs are handed out again
    /// this long after its last heartbeat. Also the age at which a dead process's Hangfire lock is taken over.
    /// Hangfire's own default is 30 minutes; a live job of any length keeps its invisibility by the heartbeat.
    /// </summary>
    public TimeSpan JobInvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A job taken from the queue but still not started after this long, on every look in between, is handed back to
    /// the queue (see StalledJobRelease); looked for every third of it. Must exceed Hangfire's one-minute wait for a
    /// worker to start a job it took, after which the worker itself gives the job up.
    /// </summary>
    public TimeSpan StalledJobAfter { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// A shard job that finds its shard locked by another run (a job handed out twice, or a dead run whose database
    /// session PostgreSQL has not yet ended) looks again after this, so that the shard is never dropped nor run twice at once.
    /// </summary>
    public TimeSpan ShardLockRetry { get; set; } = TimeSpan.FromSeconds(30);
}
