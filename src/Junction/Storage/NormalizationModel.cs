using Junction.Canonical;

namespace Junction.Storage;

/// <summary>A raw event with its position in the log.</summary>
public sealed record StoredRaw(long Seq, RawEvent Raw);

public static class NormalizationStatus
{
    public const string Mapped = "mapped";
    public const string Ignored = "ignored";
    public const string Quarantined = "quarantined";
    public const string Pending = "pending";
}

/// <summary>What normalization decided about one raw event, written in one transaction with its events.</summary>
public sealed record NormalizationOutcome
{
    public required string RawId { get; init; }
    public required long RawSeq { get; init; }
    public required string Source { get; init; }
    public string? ProviderType { get; init; }
    public required string Status { get; init; }
    public string? Reason { get; init; }
    public IReadOnlyList<(CanonicalEvent Event, string Json)> Events { get; init; } = [];
    public int Attempts { get; init; }

    /// <summary>Unix milliseconds; set for pending.</summary>
    public long? NextAttemptAt { get; init; }

    /// <summary>Unix milliseconds of the first failed attempt, to bound the retry window.</summary>
    public long? FirstFailedAt { get; init; }
}

public sealed record NormalizationState(
    string RawId, string Source, string? ProviderType, string Status, string? Reason, int Attempts,
    long? NextAttemptAt, long? FirstFailedAt, int EventCount, DateTimeOffset UpdatedAt);

public sealed record QuarantineItem(long RawSeq, NormalizationState State, DateTimeOffset ReceivedAt, string DedupKey);

public sealed record CanonicalRow(long Seq, string Json);

public sealed record CanonicalPage(IReadOnlyList<CanonicalRow> Items, string? Next);

/// <summary>Per (source, provider type): how many events were seen and how often each field path appeared.</summary>
public sealed class DriftTypeState
{
    public long EventsSeen { get; set; }
    public Dictionary<string, DriftPathState> Paths { get; } = new(StringComparer.Ordinal);
}

public sealed class DriftPathState
{
    public long SeenCount { get; set; }
    public DateTimeOffset FirstSeen { get; set; }
    public DateTimeOffset LastSeen { get; set; }
    public string SampleRawId { get; set; } = "";
}

public sealed record DriftChange(string Source, string ProviderType, string Path, string Change, DateTimeOffset DetectedAt, string SampleRawId);

/// <summary>What a batch changed in the drift picture, written with the batch.</summary>
public sealed record DriftUpdate(
    IReadOnlyList<(string Source, string ProviderType, long EventsSeen)> Types,
    IReadOnlyList<(string Source, string ProviderType, string Path, DriftPathState State)> Paths,
    IReadOnlyList<DriftChange> Changes);
