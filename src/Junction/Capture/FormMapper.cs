using System.Text.Json;
using Junction.Canonical;
using Junction.Normalize;

namespace Junction.Capture;

/// <summary>
/// A stored form post → one <c>optin</c> event: the subject as filled in, consent per channel as
/// sent (an absent <c>consent_email</c> is no consent change; an explicit "no" is a withdrawal the
/// fold applies only for a source with <c>allow_withdraw</c>), the
/// <c>utm_*</c> fields as the last touch and <c>first_utm_*</c> (the snippet's cookie) as the first
/// touch. The time is when Junction received it (a browser's clock is not trusted). The fact key
/// is the delivery's dedup key, the same one the post's 200 answer named.
/// </summary>
public sealed class FormMapper : IPayloadMapper
{
    public const string ProviderType = "form.submitted";

    public MapResult Map(RawInput raw)
    {
        Dictionary<string, string> fields;
        try
        {
            fields = FormSubmission.Fields(raw.Body, raw.IsForm);
        }
        catch (JsonException ex)
        {
            return new MapResult.Quarantined($"body: expected form fields (form-encoded or a flat JSON object): {ex.Message}") { ProviderType = ProviderType };
        }
        if (FormSubmission.Read(fields, ConsentSource(raw.Source), raw.ReceivedAt, out var errors) is not { } form)
        {
            return new MapResult.Quarantined(CanonicalInput.Describe(errors)) { ProviderType = ProviderType };
        }
        return new MapResult.Mapped([Optin(raw, form)]) { ProviderType = ProviderType };
    }

    public static string ConsentSource(string sourceId) => $"form {sourceId}";

    public static string FactKey(string dedupKey) => "optin:" + dedupKey;

    internal static CanonicalEvent Optin(RawInput raw, FormSubmission form) =>
        raw.Event(EventTypes.Optin, FactKey(raw.DedupKey), raw.ReceivedAt, form.Subject, form.TestMode, ProviderType) with
        {
            Consent = form.Consent,
            Attribution = form.LastTouch,
            FirstTouch = form.FirstTouch,
            Tags = form.Tags,
        };
}
