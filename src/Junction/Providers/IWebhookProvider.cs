namespace Junction.Providers;

/// <summary>
/// What intake asks of a provider: is this request really from it, and which key identifies the
/// provider's event across retries. One implementation per provider folder; registered in
/// <see cref="ProviderRegistry"/>.
/// </summary>
public interface IWebhookProvider
{
    /// <summary>The <c>provider:</c> value in config.</summary>
    string Name { get; }

    /// <summary>Headers worth keeping with the raw event (lower case). Signature headers are kept; secrets never are.</summary>
    IReadOnlyList<string> KeptHeaders { get; }

    /// <summary>Null when the secret is usable, else what is wrong with it (never the secret itself).</summary>
    string? ValidateSecret(string secret);

    /// <summary>Checks the request against every configured secret and every signature it carries, in constant time.</summary>
    SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now);

    /// <summary>The provider's own event id or idempotency key, or null when the request carries none.</summary>
    string? DedupKey(WebhookRequest request);
}

/// <summary>A received webhook as intake sees it: raw body bytes and a header lookup.</summary>
public readonly record struct WebhookRequest(ReadOnlyMemory<byte> Body, Func<string, string?> Header);

public enum SignatureFailure
{
    None,
    MissingSignature,
    MalformedSignature,
    BadSignature,
    StaleTimestamp,
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
