using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Junction.Telemetry;

/// <summary>
/// One <see cref="ActivitySource"/> per stage. Every span of an event carries the trace id its raw
/// event was given at intake (the caller's W3C traceparent, or a fresh one), which is stored with
/// it (raw_events.trace_id) and copied onto state changes and deliveries: so one trace shows a
/// webhook's way through intake, normalize, project and dispatch, across nodes and restarts.
/// Without a listener (no <c>telemetry.otlp_endpoint</c>) <see cref="Start"/> returns null at the
/// cost of one check.
/// </summary>
public static class StageTracing
{
    public static readonly ActivitySource Intake = new("Junction.Intake");
    public static readonly ActivitySource Normalize = new("Junction.Normalize");
    public static readonly ActivitySource Project = new("Junction.Project");
    public static readonly ActivitySource Dispatch = new("Junction.Dispatch");
    public static readonly ActivitySource Audit = new("Junction.Audit");

    public static IReadOnlyList<ActivitySource> All { get; } = [Intake, Normalize, Project, Dispatch, Audit];

    /// <summary>The collector's traces URL for a configured base (<c>http://host:4318</c> → <c>http://host:4318/v1/traces</c>), as OTLP/HTTP defines it.</summary>
    public static Uri TracesEndpoint(Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        var text = baseUrl.AbsoluteUri.TrimEnd('/');
        return new Uri(text.EndsWith("/v1/traces", StringComparison.Ordinal) ? text : text + "/v1/traces");
    }

    /// <summary>
    /// A span in the trace <paramref name="traceId"/> (32 hex digits; a span with a trace of its own
    /// when it is missing or malformed). Only the trace id is stored, not the intake span's id, so
    /// the parent named here is a span id derived from the trace id: the same for every stage of the
    /// event, which keeps its spans together as siblings.
    /// </summary>
    public static Activity? Start(ActivitySource source, string name, string? traceId, ActivityKind kind = ActivityKind.Internal)
    {
        if (!source.HasListeners()) return null;
        if (traceId is not { Length: 32 } || !IsHex(traceId)) return source.StartActivity(name, kind);
        var parent = new ActivityContext(ActivityTraceId.CreateFromString(traceId), ParentSpanOf(traceId), ActivityTraceFlags.Recorded, isRemote: true);
        return source.StartActivity(name, kind, parent);
    }

    private static ActivitySpanId ParentSpanOf(string traceId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.ASCII.GetBytes(traceId), hash);
        return ActivitySpanId.CreateFromBytes(hash[..8]);
    }

    private static bool IsHex(string value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c)) return false;
        }
        return true;
    }
}
