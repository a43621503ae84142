using Junction.Providers;

namespace Junction.Capture;

/// <summary>
/// <c>provider: form</c>: a landing-page form posting to <c>POST /v1/forms/{source}</c>
/// (<see cref="FormsApi"/>). Browsers sign nothing and forms hold no secret, so a form source has
/// no secrets; spam is held off by a honeypot field and, for script posts, by CORS. Posts to
/// <c>/v1/hooks/{source}</c> are refused: a form source takes its posts only at its own endpoint.
/// </summary>
public sealed class FormProvider : IWebhookProvider, IValidatesOptions
{
    public const string ProviderName = "form";
    public const string DefaultHoneypot = "website";

    public string Name => ProviderName;

    public string Kind => State.ProviderKinds.Forms;

    public Config.SourceConfig? Demo => new()
    {
        Id = "demo-form",
        Provider = ProviderName,
        Secrets = [],
        Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["allowed_origins"] = "http://localhost:8000\nhttp://127.0.0.1:8000" },
    };

    public bool RequiresSecrets => false;

    public bool Authenticated => false;

    public IReadOnlyList<ProviderOption> Options { get; } =
    [
        new("redirect", false, "the thank-you page browsers are sent to (303) after a form post: an absolute http(s) URL"),
        new("allowed_origins", false, "origins allowed to post with fetch/XHR (CORS), e.g. [\"https://example.com\"]", IsList: true),
        new("honeypot", false, $"the name of a hidden field only bots fill (default {DefaultHoneypot})"),
        new("require_consent", false, "true or false (default false): the snippet keeps no cookie until window.junction.consent()"),
        new(Config.SourceRules.AllowedTags, false, "tags from tags: a post may set with its tags field (default none; a product's tags never)", IsList: true),
        new(Config.SourceRules.DoubleOptIn, false, "true or false (default false): email consent stays unconfirmed (held pending at the email platform) until the email platform confirms it"),
        new(Config.SourceRules.AllowWithdraw, false, "true or false (default false): an explicit consent_email=no withdraws email consent; otherwise it is no change"),
    ];

    public Normalize.IPayloadMapper Mapper { get; } = new FormMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent", "origin", "referer", "idempotency-key"];

    public string? ValidateSecret(string secret) => "form sources take no secrets (browsers cannot keep one); remove secrets:";

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        new(SignatureFailure.MissingSignature, "a form source takes posts at /v1/forms/{source}, not /v1/hooks/{source}");

    /// <summary>A client-supplied submission id (the snippet sets one per page view, so a double submit is one opt-in).</summary>
    public string? DedupKey(WebhookRequest request) =>
        request.Header("idempotency-key") is { Length: > 0 and <= 200 } key ? "submission:" + key.Trim() : null;

    public IEnumerable<(string Key, string Problem)> ValidateOptions(IReadOnlyDictionary<string, string> options)
    {
        if (options.TryGetValue("redirect", out var redirect)
            && !(Uri.TryCreate(redirect, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)))
        {
            yield return ("redirect", $"expected an absolute http(s) URL; got '{redirect}'");
        }
        if (options.TryGetValue("allowed_origins", out var origins))
        {
            var i = 0;
            foreach (var origin in origins.Split('\n'))
            {
                if (origin.Length > 0 && origin != "*" && FormSource.NormalizeOrigin(origin) is null)
                {
                    yield return ($"allowed_origins[{i}]", $"expected an origin like https://example.com (scheme, host, optional port; no path) or \"*\"; got '{origin}'");
                }
                i++;
            }
        }
        if (options.TryGetValue("honeypot", out var honeypot)
            && !honeypot.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            yield return ("honeypot", $"expected a field name of letters, digits, '_' or '-'; got '{honeypot}'");
        }
        foreach (var flag in new[] { "require_consent", Config.SourceRules.DoubleOptIn, Config.SourceRules.AllowWithdraw })
        {
            if (options.TryGetValue(flag, out var value) && value is not ("true" or "false"))
            {
                yield return (flag, $"expected true or false; got '{value}'");
            }
        }
    }
}

/// <summary>A form source's options, read once.</summary>
public sealed record FormSource(string Id, string? Redirect, IReadOnlySet<string> AllowedOrigins, bool AnyOrigin, string Honeypot, bool RequireConsent)
{
    public static FormSource From(Config.SourceConfig source)
    {
        var origins = (source.Option("allowed_origins") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return new FormSource(
            source.Id,
            source.Option("redirect"),
            origins.Select(NormalizeOrigin).OfType<string>().ToHashSet(StringComparer.Ordinal),
            origins.Contains("*"),
            source.Option("honeypot") ?? FormProvider.DefaultHoneypot,
            source.Option("require_consent") == "true");
    }

    public bool Allows(string? origin) =>
        origin is not null && (AnyOrigin || (NormalizeOrigin(origin) is { } o && AllowedOrigins.Contains(o)));

    /// <summary><c>scheme://host[:port]</c> lower-cased with default ports dropped, as browsers send Origin; null when not an origin.</summary>
    public static string? NormalizeOrigin(string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            return null;
        }
        if (origin.EndsWith('/')) return null;
        return uri.IsDefaultPort ? $"{uri.Scheme}://{uri.Host}" : $"{uri.Scheme}://{uri.Host}:{uri.Port}";
    }
}
