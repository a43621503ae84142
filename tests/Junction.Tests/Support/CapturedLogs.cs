using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Junction.Tests.Support;

/// <summary>
/// Every log line a host writes, at every level it lets through, with the exception text: added as
/// a provider to the host under test (<see cref="JunctionServer.StartAsync"/>'s <c>logging</c>).
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLine> _lines = new();

    public IReadOnlyList<CapturedLine> Lines => [.. _lines];

    /// <summary>Captures everything: the host's own category filters still apply, as in production.</summary>
    public void AddTo(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddProvider(this);
        logging.SetMinimumLevel(LogLevel.Trace);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The structured values too: a sink such as OpenTelemetry exports them as attributes, not only the message.
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : "";
            owner._lines.Enqueue(new CapturedLine(logLevel, category, eventId.Id, formatter(state, exception), values, exception?.ToString()));
        }
    }
}

public sealed record CapturedLine(LogLevel Level, string Category, int EventId, string Message, string Values, string? Exception)
{
    public override string ToString() => $"{Level} {Category}[{EventId}] {Message} | {Values}{(Exception is null ? "" : " | " + Exception)}";
}
