using Junction.Providers;

namespace Junction.Capture;

/// <summary>
/// <c>provider: api</c>: events the creator's own code posts to <c>POST /v1/events</c>
/// (<see cref="EventsApi"/>), authenticated with a key from <c>api_keys:</c> rather than a
/// per-source secret. The body is the generic canonical JSON shape, mapped by
/// <see cref="CanonicalJsonMapper"/>. Posts to <c>/v1/hooks/{source}</c> are refused.
/// </summary>
public sealed class ApiProvider : IWebhookProvider
{
    public const string ProviderName = "api";

    public string Name => ProviderName;

    public string Kind => State.ProviderKinds.Custom;

    public bool CanonicalEvents => true;

    public Config.SourceConfig? Demo => new() { Id = "demo-api", Provider = ProviderName, Secrets = [] };

    public bool RequiresSecrets => false;

    public Normalize.IPayloadMapper Mapper { get; } = new CanonicalJsonMapper(envelope: false);

    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent", "idempotency-key"];

    public string? ValidateSecret(string secret) => "api sources take no secrets; POST /v1/events is authenticated with the keys in api_keys:";

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        new(SignatureFailure.MissingSignature, "an api source takes events at POST /v1/events with an api key, not at /v1/hooks/{source}");

    public string? DedupKey(WebhookRequest request) => null;
}
