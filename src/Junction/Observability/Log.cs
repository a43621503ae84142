namespace Junction.Observability;

/// <summary>
/// Every log message, source-generated. Event ids by area: 1xxx hosting, 2xxx intake, 3xxx normalize, 4xxx project, 7xxx audit
/// (6xxx dispatch in Dispatch/DispatchLog.cs). Never a secret, never a raw email or body; text that quotes a caller (a refusal's detail) goes through <see cref="Pii.Redact"/>.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Warning,
        "No --config and no config file at {Path}: running the built-in demo configuration with PUBLISHED secrets, on loopback only (storage {Storage}; {SourceCount} demo sources: {Sources}). Not for production.")]
    public static partial void RunningDemo(ILogger logger, string path, string storage, int sourceCount, string sources);

    [LoggerMessage(1001, LogLevel.Information, "Junction starting with {Config}: storage {Storage}, {SourceCount} sources")]
    public static partial void Starting(ILogger logger, string config, string storage, int sourceCount);

    [LoggerMessage(1002, LogLevel.Information, "Store ready: {Engine} schema migrated")]
    public static partial void StoreReady(ILogger logger, string engine);

    [LoggerMessage(1010, LogLevel.Information, "Read model filled for {People} people projected before it existed")]
    public static partial void ReadModelBackfilled(ILogger logger, int people);

    [LoggerMessage(1011, LogLevel.Information, "Demo: simulating up to {Journeys} customer journeys (demo-N@demo.junction.invalid on the demo form and payment sources) so the dashboard has something to show")]
    public static partial void DemoTraffic(ILogger logger, int journeys);

    [LoggerMessage(1012, LogLevel.Warning, "Demo: simulated traffic stopped: {Reason}")]
    public static partial void DemoTrafficStopped(ILogger logger, string reason);

    [LoggerMessage(1013, LogLevel.Warning, "Dashboard: refreshing its figures failed; pages compute them themselves until the next try")]
    public static partial void DashboardRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(1003, LogLevel.Information, "Leading {Role} (epoch {Epoch})")]
    public static partial void Leading(ILogger logger, string role, long epoch);

    [LoggerMessage(1004, LogLevel.Warning, "Lost the lead of {Role} (epoch {Epoch}): another node has taken it; in-memory state dropped, trying to lead again")]
    public static partial void LeadershipLost(ILogger logger, string role, long epoch);

    [LoggerMessage(1005, LogLevel.Warning, "Trying to lead {Role} failed; trying again shortly")]
    public static partial void LeadFailed(ILogger logger, string role, Exception exception);

    [LoggerMessage(2000, LogLevel.Error, "Appending {Count} raw events failed; their requests are answered 503")]
    public static partial void AppendFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(2001, LogLevel.Debug, "Refused a webhook for source {Source}: {Reason} ({Detail})")]
    public static partial void Refused(ILogger logger, string source, string reason, string detail);

    [LoggerMessage(2002, LogLevel.Error, "Writing {Count} rejections failed; they are not kept")]
    public static partial void RejectionWriteFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(3000, LogLevel.Error, "Normalization pass failed; retrying")]
    public static partial void NormalizeFailed(ILogger logger, Exception exception);

    [LoggerMessage(3001, LogLevel.Error, "The {Provider} mapper threw on raw event {RawId}; quarantined")]
    public static partial void MapperFailed(ILogger logger, string provider, string rawId, Exception exception);

    [LoggerMessage(3002, LogLevel.Error, "Normalizing raw event {RawId} threw; quarantined")]
    public static partial void NormalizeEventFailed(ILogger logger, string rawId, Exception exception);

    [LoggerMessage(4001, LogLevel.Warning, "A projection batch failed; projecting it event by event to find the event that fails")]
    public static partial void ProjectIsolating(ILogger logger, Exception exception);

    [LoggerMessage(4002, LogLevel.Error, "Canonical event {EventId} (seq {Seq}) cannot be projected; skipped and listed at /v1/project/poison")]
    public static partial void ProjectPoison(ILogger logger, string eventId, long seq, Exception exception);

    [LoggerMessage(4100, LogLevel.Warning, "Forgot person {PersonId} (erasure {ErasureId}, by {Actor}): {Events} canonical events and {RawEvents} raw bodies redacted, {Deliveries} destination deletions queued")]
    public static partial void Forgot(ILogger logger, string personId, string erasureId, string actor, int events, int rawEvents, int deliveries);

    [LoggerMessage(4000, LogLevel.Error, "Projection step failed; the identity graph is reloaded and the step retried")]
    public static partial void ProjectFailed(ILogger logger, Exception exception);

    [LoggerMessage(7000, LogLevel.Error, "A scheduled audit failed to start; it is tried again at the next poll")]
    public static partial void AuditScheduleFailed(ILogger logger, Exception exception);

    [LoggerMessage(7001, LogLevel.Information, "Scheduled {Object} audit {AuditId}: {Status}")]
    public static partial void ScheduledAuditRan(ILogger logger, string @object, string auditId, string status);

    [LoggerMessage(7002, LogLevel.Error, "Smoke run {RunId} failed at step {Step}: {Detail}")]
    public static partial void SmokeFailed(ILogger logger, string runId, string step, string detail);

    [LoggerMessage(7003, LogLevel.Error, "A scheduled smoke run failed to start; it is tried again at the next poll")]
    public static partial void SmokeScheduleFailed(ILogger logger, Exception exception);

    // 8100-8199: admin roles and the operations log.
    [LoggerMessage(8100, LogLevel.Warning, "Admin token {Actor} ({Role}) refused {Method} {Route}: it needs the {NeededRole} role")]
    public static partial void AdminRoleRefused(ILogger logger, string actor, string role, string method, string route, string neededRole);

    [LoggerMessage(8101, LogLevel.Information, "Operation {Action} on {Target} by {Actor} ({Role})")]
    public static partial void OperationRecorded(ILogger logger, string action, string target, string actor, string role);

    [LoggerMessage(8300, LogLevel.Error, "Alert evaluation failed; it is tried again at the next poll")]
    public static partial void AlertEvaluationFailed(ILogger logger, Exception exception);

    [LoggerMessage(8301, LogLevel.Warning, "Incident {IncidentId} opened: {Rule} ({Subject})")]
    public static partial void IncidentOpened(ILogger logger, string incidentId, string rule, string subject);

    [LoggerMessage(8302, LogLevel.Information, "Incident {IncidentId} closed by itself: {Rule} ({Subject}) healthy for its cooldown")]
    public static partial void IncidentClosed(ILogger logger, string incidentId, string rule, string subject);

    [LoggerMessage(8303, LogLevel.Warning, "Incident {IncidentId}: notifier {Notifier} failed: {Detail}")]
    public static partial void NotifyFailed(ILogger logger, string incidentId, string notifier, string detail);

    [LoggerMessage(8304, LogLevel.Information, "Incident {IncidentId}: {Action} by {Actor}")]
    public static partial void IncidentAction(ILogger logger, string incidentId, string action, string actor);

    [LoggerMessage(8200, LogLevel.Warning, "Refreshing the metrics gauges from the store failed; they keep their last values until the next pass")]
    public static partial void MetricsRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(8201, LogLevel.Information, "Exporting traces over OTLP (http/protobuf) to {Endpoint}")]
    public static partial void ExportingTraces(ILogger logger, string endpoint);
}
