namespace Junction.Providers;

/// <summary>
/// What intake asks of a provider: is this request really from it, and which key identifies the
/// provider's event across retries; and what normalization asks: its mapper, and its API for
/// enrichment and backfill. One implementation per provider folder; registered in
/// <see cref="ProviderRegistry"/>.
/// </summary>
public interface IWebhookProvider
{
    /// <summary>The <c>provider:</c> value in config.</summary>
    string Name { get; }

    /// <summary>
    /// What kind of system it is (<see cref="State.ProviderKinds"/>), for <c>ownership:</c>: payments own
    /// money, course platforms access, email platforms and forms subscription preferences. Declared by
    /// every provider (no default): a provider that fell back to <c>custom</c> would have its money or
    /// access writes ignored without a word.
    /// </summary>
    string Kind { get; }

    /// <summary>
    /// Its source in the built-in demo configuration (<c>junction serve</c> with no config), with the
    /// provider's published demo secret; null when it has none.
    /// </summary>
    Config.SourceConfig? Demo { get; }

    /// <summary>False for providers that do not sign with a shared secret (PayPal REST, IPN).</summary>
    bool RequiresSecrets => true;

    /// <summary>
    /// False when anyone on the internet can post as the source (a landing-page form: no secret, no
    /// key). Such a source never merges people, sets only its <c>allowed_tags</c>, and withdraws
    /// consent only with <c>allow_withdraw</c> (<see cref="Config.SourceRules"/>). PayPal and the
    /// events API sign nothing but are authenticated otherwise (a certificate, an API key).
    /// </summary>
    bool Authenticated => true;

    /// <summary>
    /// False for a source that receives only when someone runs a command (<c>junction import</c>): its
    /// rows arrive in one burst, so a quiet spell after it is not a disabled webhook (<c>source_silent</c>).
    /// </summary>
    bool Continuous => true;

    /// <summary>Purchases Junction can make itself (smoke runs, the demo's traffic); null for providers without.</summary>
    ISimulatedPayments? Simulated => null;

    /// <summary>True when its events are already in Junction's canonical shape, so the events API may name its sources too.</summary>
    bool CanonicalEvents => false;

    /// <summary>Provider-specific config keys a source may set (e.g. <c>webhook_id</c>, <c>api_key</c>).</summary>
    IReadOnlyList<ProviderOption> Options => [];

    /// <summary>Maps stored raw events to canonical events.</summary>
    Normalize.IPayloadMapper Mapper { get; }

    /// <summary>The provider's HTTP API for enrichment and backfill, where Junction uses one.</summary>
    IProviderApi? Api => null;

    /// <summary>Headers worth keeping with the raw event (lower case). Signature headers are kept; secrets never are.</summary>
    IReadOnlyList<string> KeptHeaders { get; }

    /// <summary>Null when the secret is usable, else what is wrong with it (never the secret itself).</summary>
    string? ValidateSecret(string secret);

    /// <summary>Checks the request against every configured secret and every signature it carries, in constant time.</summary>
    SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now);

    /// <summary>The provider's own event id or idempotency key, or null when the request carries none.</summary>
    string? DedupKey(WebhookRequest request);
}

/// <summary>A received webhook as intake sees it: raw body bytes, a header lookup, and a query-string lookup.</summary>
public readonly record struct WebhookRequest(ReadOnlyMemory<byte> Body, Func<string, string?> Header)
{
    public Func<string, string?>? Query { get; init; }

    public string? QueryValue(string name) => Query?.Invoke(name);
}

/// <summary>A provider-specific key under <c>sources.&lt;id&gt;</c>. A list option's items are stored joined by newlines.</summary>
public sealed record ProviderOption(string Key, bool Required, string Expected, bool IsList = false);

/// <summary>For providers whose options need more than presence: each problem as (option key, what was expected).</summary>
public interface IValidatesOptions
{
    IEnumerable<(string Key, string Problem)> ValidateOptions(IReadOnlyDictionary<string, string> options);
}

/// <summary>
/// For providers whose check needs the network (PayPal's certificate, IPN's post-back). Intake
/// calls this instead of <see cref="IWebhookProvider.Verify"/>.
/// </summary>
public interface IAsyncWebhookVerifier
{
    ValueTask<SignatureCheck> VerifyAsync(WebhookRequest request, Config.SourceConfig source, VerifyContext context, CancellationToken cancellationToken);
}

/// <summary>What an async verifier may use: the clock, an HTTP client, and a cache that outlives the request.</summary>
public sealed record VerifyContext(DateTimeOffset Now, HttpClient Http, System.Collections.Concurrent.ConcurrentDictionary<string, object> Cache);

public enum SignatureFailure
{
    None,
    MissingSignature,
    MalformedSignature,
    BadSignature,
    StaleTimestamp,
    /// <summary>The signature is good, but an unsigned header claims something the signed body contradicts.</summary>
    HeaderMismatch,
}

public readonly record struct SignatureCheck(SignatureFailure Failure, string Detail)
{
    public static readonly SignatureCheck Valid = new(SignatureFailure.None, "");

    public bool IsValid => Failure == SignatureFailure.None;

    public static SignatureCheck Missing(string header) => new(SignatureFailure.MissingSignature, $"header {header} is missing");

    public static SignatureCheck Malformed(string header, string expected) =>
        new(SignatureFailure.MalformedSignature, $"header {header} is malformed; expected {expected}");

    public static SignatureCheck Bad(string header) =>
        new(SignatureFailure.BadSignature, $"no signature in {header} matches the body with any configured secret");

    public static SignatureCheck Stale(string header, long timestamp, DateTimeOffset now, TimeSpan tolerance) =>
        new(SignatureFailure.StaleTimestamp,
            $"timestamp in {header} is {Math.Abs(now.ToUnixTimeSeconds() - timestamp)} s away from now; tolerance is {(long)tolerance.TotalSeconds} s");
}

/// <summary>
/// For providers that send a non-event request first (WooCommerce's ping on webhook creation, and
/// later Zoom's URL validation): answered at once, stored nowhere.
/// </summary>
public interface IWebhookHandshake
{
    /// <summary>The reply when this request is a handshake; null when it is an ordinary delivery.</summary>
    HandshakeReply? Handshake(WebhookRequest request, Config.SourceConfig source);

    /// <summary>
    /// What intake calls: with the clock, for a handshake that is itself signed with a timestamp
    /// (Zoom's URL validation), so it can be checked like a delivery before it is answered.
    /// </summary>
    HandshakeReply? Handshake(WebhookRequest request, Config.SourceConfig source, DateTimeOffset now) => Handshake(request, source);
}

public sealed record HandshakeReply(int Status, string ContentType, string Body);

/// <summary>
/// For providers that check a hook URL with a GET before sending to it (Mailchimp validates the
/// callback URL that way and expects a 200). Intake answers such a GET with this reply and stores
/// nothing; for every other provider a GET on a hook URL stays 405.
/// </summary>
public interface IWebhookUrlCheck
{
    HandshakeReply AnswerGet(Config.SourceConfig source);
}
