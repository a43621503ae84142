namespace Junction.Storage;

/// <summary>A verified webhook about to be appended to the raw log.</summary>
public sealed record RawEventDraft(
    string Id,
    string Source,
    string DedupKey,
    DateTimeOffset ReceivedAt,
    string TraceId,
    string ContentType,
    string HeadersJson,
    byte[] Body,
    string BodySha256);

/// <summary>What the append did: stored a new event, or found the one already stored under the same key.</summary>
public readonly record struct AppendOutcome(string Id, bool Duplicate, string TraceId);

public sealed record RawEventSummary(
    string Id,
    string Source,
    string DedupKey,
    DateTimeOffset ReceivedAt,
    string TraceId,
    string BodySha256);

public sealed record RawEvent(RawEventSummary Summary, string ContentType, string HeadersJson, byte[] Body);

public sealed record RawEventPage(IReadOnlyList<RawEventSummary> Items, string? Next);

/// <summary>A refused request: kept apart from the event log, without its body, in a bounded table.</summary>
public sealed record Rejection(string Source, string Reason, string Detail, DateTimeOffset ReceivedAt, string HeadersJson);
