using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations;

/// <summary>
/// A destination type as its integration declares it: what the config loader accepts under
/// <c>destinations.ID</c>, its defaults, what kind of destination it is, and how to build its client
/// and its read-back. Every key problem is reported with its key path by the loader.
/// </summary>
public sealed record DestinationDescriptor
{
    /// <summary>The <c>type:</c> value in config.</summary>
    public required string Type { get; init; }

    /// <summary>State, events, enrollments only, default events, test events skipped …</summary>
    public required DestinationTraits Traits { get; init; }

    /// <summary>Traits that depend on the destination's options (a CRM that records orders only with <c>deals: true</c>); null: <see cref="Traits"/>.</summary>
    public Func<IReadOnlyDictionary<string, string>, DestinationTraits>? TraitsWith { get; init; }

    /// <summary>The real API; null when it depends on the account (see <see cref="BaseUrlFrom"/>) or must be given.</summary>
    public string? DefaultBaseUrl { get; init; }

    /// <summary>
    /// For APIs whose address follows from a credential (an API key's data-center suffix): the URL, or
    /// the credential key and what was expected of it. Used when <c>base_url</c> is not set.
    /// </summary>
    public Func<IReadOnlyDictionary<string, string>, (Uri? Url, string? Key, string? Problem)>? BaseUrlFrom { get; init; }

    /// <summary>What <c>base_url</c> must be when the type has no default (an outgoing webhook's receiver, the account's own host).</summary>
    public string BaseUrlExpected { get; init; } = "the absolute http(s) URL of the API";

    /// <summary>Credential keys, all required.</summary>
    public required IReadOnlyList<string> Credentials { get; init; }

    /// <summary>Requests per second by default: the API's documented limit per credential (cited where declared).</summary>
    public required double DefaultRate { get; init; }

    /// <summary>Which of the mapping keys apply: <c>tags</c>, <c>fields</c>, <c>courses</c>, <c>events</c>.</summary>
    public IReadOnlyList<string> Maps { get; init; } = [];

    /// <summary>Type-specific keys that must be set (non-empty strings), kept in <see cref="DestinationConfig.Options"/>.</summary>
    public IReadOnlyList<string> RequiredOptions { get; init; } = [];

    /// <summary>Type-specific keys that may be set (non-empty strings).</summary>
    public IReadOnlyList<string> OptionalOptions { get; init; } = [];

    /// <summary>Type-specific true/false keys.</summary>
    public IReadOnlyList<string> FlagOptions { get; init; } = [];

    /// <summary>More checks of the options than presence: each problem as (option key, what was expected).</summary>
    public Func<IReadOnlyDictionary<string, string>, IEnumerable<(string Key, string Problem)>>? ValidateOptions { get; init; }

    /// <summary>The client: one attempt per call; retries, backoff and rate limits belong to the dispatcher.</summary>
    public required Func<DestinationConfig, HttpClient, TimeProvider, IDestinationConnector> Connector { get; init; }

    /// <summary>What the destination really holds, for the audit (state destinations whose API allows it).</summary>
    public Func<DestinationConfig, HttpClient, TimeProvider, IDestinationReadBack>? ReadBack { get; init; }

    /// <summary>
    /// The API's own limit on events per request (<c>batch.max</c> may not exceed it); null when it has none
    /// or takes one event per request.
    /// </summary>
    public int? MaxBatch { get; init; }

    /// <summary>Whether the type may receive events (with some options at least), so <c>delivery:</c> and <c>batch:</c> apply.</summary>
    public bool MayReceiveEvents => Traits.Events || TraitsWith is not null;

    /// <summary>Every key <c>destinations.ID</c> of this type accepts.</summary>
    public IReadOnlyList<string> Keys =>
        [.. CommonKeys, .. Maps, .. RequiredOptions, .. OptionalOptions, .. FlagOptions, .. MayReceiveEvents ? EventKeys : []];

    /// <summary>The keys of destinations that receive events: real time or batched (R5.6).</summary>
    public static IReadOnlyList<string> EventKeys { get; } = ["delivery", "batch"];

    /// <summary>The keys every destination accepts.</summary>
    public static IReadOnlyList<string> CommonKeys { get; } = ["type", "base_url", "credentials", "rate_limit", "retry"];
}
