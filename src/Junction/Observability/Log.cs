namespace Junction.Observability;

/// <summary>
/// Every log message, source-generated. Event ids by area: 1xxx hosting, 2xxx intake, 3xxx normalize.
/// Never a secret, never a raw email or body.
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

    [LoggerMessage(4000, LogLevel.Error, "Projection step failed; the identity graph is reloaded and the step retried")]
    public static partial void ProjectFailed(ILogger logger, Exception exception);
}
