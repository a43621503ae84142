using Junction.Config;

namespace Junction.Providers;

/// <summary>
/// A provider's HTTP API as Junction uses it: authentication for enrichment fetches, and optionally
/// a backfill that lists past events or orders. The base URL comes from the source's
/// <c>api_base_url</c> (tests and sandboxes) or <see cref="DefaultBaseUrl"/>.
/// </summary>
public interface IProviderApi
{
    string DefaultBaseUrl { get; }

    /// <summary>Adds credentials to a request for this source (API key header, OAuth token …).</summary>
    ValueTask AuthorizeAsync(HttpRequestMessage request, SourceConfig source, HttpClient http, CancellationToken cancellationToken);

    /// <summary>Null when the provider offers no listing to backfill from.</summary>
    IBackfill? Backfill => null;
}

/// <summary>One item a backfill found, stored through the same dedupe and normalization as a webhook.</summary>
public sealed record BackfillItem(string DedupKey, byte[] Body, string ContentType, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>The raw-log draft for this item, received now: what `junction backfill` and an audit's payment heal append.</summary>
    public Storage.RawEventDraft ToDraft(TimeProvider time, string source)
    {
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetUtcNow();
        return new Storage.RawEventDraft(
            Guid.CreateVersion7(now).ToString(), source, DedupKey, now,
            System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString(), ContentType,
            System.Text.Json.JsonSerializer.Serialize(Headers, Intake.JunctionJson.Default.IReadOnlyDictionaryStringString),
            Body, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Body)));
    }
}

public interface IBackfill
{
    /// <summary>Pages through the provider's listing from <paramref name="since"/>, following its cursor.</summary>
    IAsyncEnumerable<BackfillItem> PullAsync(ProviderApiClient api, DateTimeOffset since, CancellationToken cancellationToken);
}
