using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Capture;

/// <summary>
/// A landing-page form post read into its parts. The same reading decides the 422 at intake and
/// the <c>optin</c> event in <see cref="FormMapper"/>, so what was accepted always maps.
/// Fields (docs/events.md, "Landing-page forms"): <c>email</c>, <c>name</c>, <c>phone</c>,
/// <c>consent_&lt;channel&gt;</c> (+ <c>_wording</c>, <c>_version</c>), <c>purchase_token</c>,
/// <c>anonymous_id</c>, <c>utm_*</c>, <c>referrer</c>, <c>landing_page</c> (last touch),
/// <c>first_utm_*</c>, <c>first_referrer</c>, <c>first_landing_page</c> (first touch), <c>tags</c>,
/// <c>submission_id</c>. Anything else is kept in the raw log and not mapped.
/// </summary>
public sealed partial record FormSubmission
{
    public const int MaxFieldLength = 2048;

    /// <summary>Values a ticked checkbox (or a JSON boolean) sends.</summary>
    private static readonly HashSet<string> Ticked = new(StringComparer.OrdinalIgnoreCase) { "on", "true", "1", "yes" };

    public required Subject Subject { get; init; }
    public required IReadOnlyList<ConsentInfo> Consent { get; init; }
    public Attribution? LastTouch { get; init; }
    public Attribution? FirstTouch { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string? SubmissionId { get; init; }

    /// <summary>
    /// <c>test_mode</c> ticked: a smoke run's lead. It only marks the event test (kept out of
    /// business figures and analytics); it grants nothing, so an untrusted post gains nothing by it.
    /// </summary>
    public bool TestMode { get; init; }

    /// <summary>Form fields from a form-encoded or JSON body (a flat object; booleans and numbers as text).</summary>
    public static Dictionary<string, string> Fields(ReadOnlySpan<byte> body, bool isForm)
    {
        if (isForm) return FormBody.Parse(Encoding.UTF8.GetString(body));
        using var doc = JsonDocument.Parse(body.ToArray());
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("expected a JSON object of form fields");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            switch (p.Value.ValueKind)
            {
                case JsonValueKind.String: result[p.Name] = p.Value.GetString()!; break;
                case JsonValueKind.Number: result[p.Name] = p.Value.GetRawText(); break;
                case JsonValueKind.True: result[p.Name] = "true"; break;
                case JsonValueKind.False: result[p.Name] = "false"; break;
                case JsonValueKind.Array:
                    // e.g. "tags": ["a", "b"]
                    result[p.Name] = string.Join(',', p.Value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()));
                    break;
                default: break;
            }
        }
        return result;
    }

    /// <summary>Reads the fields; null with every problem when the post cannot be an opt-in.</summary>
    public static FormSubmission? Read(IReadOnlyDictionary<string, string> f, string consentSource, DateTimeOffset at, out List<FieldError> errors)
    {
        errors = [];
        foreach (var (key, value) in f)
        {
            if (value.Length > MaxFieldLength) errors.Add(new FieldError(key, $"expected at most {MaxFieldLength} characters"));
        }
        if (errors.Count > 0) return null;

        var email = Get(f, "email");
        var normalized = Identifiers.NormalizeEmail(email);
        var phone = Get(f, "phone");
        var e164 = Identifiers.NormalizePhone(phone);
        if (email is not null && normalized is null)
        {
            errors.Add(new FieldError("email", $"expected an email address; got '{Observability.Pii.MaskEmail(email)}'"));
        }
        if (phone is not null && e164 is null)
        {
            errors.Add(new FieldError("phone", "expected a phone number with its country code, e.g. +12125550100"));
        }
        if (email is null && e164 is null && errors.Count == 0)
        {
            errors.Add(new FieldError("email", "required; expected an email address (or a phone number with its country code)"));
        }
        if (errors.Count > 0) return null;

        var consent = new List<ConsentInfo>();
        foreach (var (key, value) in f.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (ConsentField().Match(key) is not { Success: true } m) continue;
            var channel = m.Groups[1].Value;
            consent.Add(new ConsentInfo
            {
                Channel = channel,
                Granted = Ticked.Contains(value.Trim()),
                Source = consentSource,
                At = at,
                Wording = Get(f, $"consent_{channel}_wording"),
                Version = Get(f, $"consent_{channel}_version"),
            });
        }
        // A checkbox left unticked is not sent at all, so an absent consent_email is no change: it
        // neither grants nor withdraws (a second post without the box must not unsubscribe anyone).

        var first = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in f)
        {
            if (key.StartsWith("first_", StringComparison.Ordinal)) first[key["first_".Length..]] = value;
        }

        return new FormSubmission
        {
            Subject = Subject.From(email, purchaseToken: Get(f, "purchase_token"), phone: phone, name: Get(f, "name")) with
            {
                AnonymousId = Get(f, "anonymous_id"),
            },
            Consent = consent,
            LastTouch = AttributionParser.FromValues(f),
            FirstTouch = AttributionParser.FromValues(first),
            Tags = Get(f, "tags") is { } tags ? [.. tags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : [],
            SubmissionId = Get(f, "submission_id"),
            TestMode = Get(f, "test_mode") is { } test && Ticked.Contains(test.Trim()),
        };
    }

    public static string? Get(IReadOnlyDictionary<string, string> f, string key) =>
        f.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

    [GeneratedRegex("^consent_([a-z0-9]+)$")]
    private static partial Regex ConsentField();
}
