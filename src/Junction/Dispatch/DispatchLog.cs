namespace Junction.Dispatch;

/// <summary>
/// Dispatch log messages (event ids 6xxx). Person ids and destination ids only: never an email, a payload or a credential.
/// A dead reason quotes the destination's message, so it arrives here already through <see cref="Observability.Pii.Redact"/>.
/// </summary>
internal static partial class DispatchLog
{
    [LoggerMessage(6000, LogLevel.Error, "Dispatch round for {Destination} failed; retrying")]
    public static partial void RoundFailed(ILogger logger, string destination, Exception exception);

    [LoggerMessage(6001, LogLevel.Warning, "Destination {Destination} has no connector; its tasks stay queued")]
    public static partial void NoConnector(ILogger logger, string destination);

    [LoggerMessage(6002, LogLevel.Warning, "Delivery {Id} to {Destination} is dead: {Reason}")]
    public static partial void Dead(ILogger logger, long id, string destination, string reason);

    [LoggerMessage(6003, LogLevel.Information, "Destination {Destination} rate limited; holding sends for {Seconds} s")]
    public static partial void RateLimited(ILogger logger, string destination, double seconds);

    [LoggerMessage(6004, LogLevel.Warning, "Circuit for {Destination} opened after {Failures} consecutive failures")]
    public static partial void CircuitOpened(ILogger logger, string destination, int failures);

    [LoggerMessage(6005, LogLevel.Information, "Circuit for {Destination} closed")]
    public static partial void CircuitClosed(ILogger logger, string destination);

    [LoggerMessage(6006, LogLevel.Warning, "Lease on delivery {Id} to {Destination} was lost before its result was recorded; another worker redoes it")]
    public static partial void LeaseLost(ILogger logger, long id, string destination);

    [LoggerMessage(6007, LogLevel.Warning, "Connector for {Destination} threw on delivery {Id}; treated as transient")]
    public static partial void ConnectorThrew(ILogger logger, string destination, long id, Exception exception);
}
