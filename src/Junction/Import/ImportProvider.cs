using System.Diagnostics.CodeAnalysis;
using Junction.Config;
using Junction.Providers;

namespace Junction.Import;

/// <summary>
/// <c>provider: import</c>: a creator's existing subscribers, read from a tool's export by
/// <c>junction import</c> (<see cref="Importer"/>) and stored one raw event per row, so they go through
/// the same durable log, dedupe and normalization as webhooks. Nothing is posted to it: hooks are refused.
/// Its kind is <c>email</c>, so by the default <c>ownership:</c> its consent counts (the list is the
/// creator's own consent record from their email platform) and its tags count (tags have no default
/// owner); a creator who wants otherwise names owners under <c>ownership:</c> as for any source.
/// Every event it makes is <see cref="Canonical.CanonicalEvent.Historical"/>.
/// </summary>
public sealed class ImportProvider : IWebhookProvider
{
    public const string ProviderName = "import";

    /// <summary>The source id <c>junction import</c> uses when the config names no <c>import</c> source.</summary>
    public const string BuiltInSourceId = "import";

    /// <summary>The source used when none is configured: every process resolves the id the same way, so a serving normalizer maps rows a CLI stored.</summary>
    public static readonly SourceConfig BuiltIn = new() { Id = BuiltInSourceId, Provider = ProviderName, Secrets = [] };

    public string Name => ProviderName;

    public string Kind => State.ProviderKinds.Email;

    public SourceConfig? Demo => new() { Id = "demo-import", Provider = ProviderName, Secrets = [] };

    public bool RequiresSecrets => false;

    public bool Continuous => false;

    public Normalize.IPayloadMapper Mapper { get; } = new ImportMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = [];

    public string? ValidateSecret(string secret) => "import sources take no secrets: rows come from `junction import`, not over HTTP";

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        new(SignatureFailure.MissingSignature, "an import source takes rows from `junction import`, not at /v1/hooks/{source}");

    public string? DedupKey(WebhookRequest request) => null;

    /// <summary>The built-in source for <paramref name="id"/> when it is the unconfigured <c>import</c> id.</summary>
    public static bool TryBuiltIn(IReadOnlyDictionary<string, SourceConfig> configured, string id, [NotNullWhen(true)] out SourceConfig? source)
    {
        source = !configured.ContainsKey(id) && string.Equals(id, BuiltInSourceId, StringComparison.Ordinal) ? BuiltIn : null;
        return source is not null;
    }
}
