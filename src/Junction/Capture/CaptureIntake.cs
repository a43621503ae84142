using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Junction.Config;
using Junction.Intake;
using Junction.Storage;

namespace Junction.Capture;

/// <summary>What a form or API post is answered with once stored: the canonical event's id (deterministic, so known before normalization).</summary>
public sealed record CaptureAccepted(string Id, string RawId, bool Duplicate, string TraceId);

/// <summary>RFC 9457 extension listing each bad field.</summary>
public sealed record FieldProblem(string Field, string Detail);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CaptureAccepted))]
[JsonSerializable(typeof(List<FieldProblem>))]
public sealed partial class CaptureJson : JsonSerializerContext;

/// <summary>
/// The part of intake form and API posts share with webhooks: the same durable raw log through
/// <see cref="IntakeWriter"/> (acknowledged only after commit), the same dedup by (source, key).
/// </summary>
public sealed class CaptureIntake(IntakeWriter writer, IntakeMetrics metrics, TimeProvider time)
{
    public const string InvalidSlug = "invalid-fields";

    public async Task<(AppendOutcome? Outcome, IResult? Problem)> AppendAsync(
        SourceConfig source, HttpRequest request, byte[] body, string? dedupKey, IReadOnlyList<string> keptHeaders, long started)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(body));
        var draft = new RawEventDraft(
            Id: Guid.CreateVersion7(time.GetUtcNow()).ToString(),
            Source: source.Id,
            DedupKey: dedupKey ?? "sha256:" + sha,
            ReceivedAt: time.GetUtcNow(),
            TraceId: HookReceiver.TraceIdOf(request),
            ContentType: request.ContentType ?? "",
            HeadersJson: HookReceiver.HeadersJson(request, keptHeaders),
            Body: body,
            BodySha256: sha);
        try
        {
            // Not cancelled when the client goes away: once queued, the event is stored regardless.
            var outcome = await writer.AppendAsync(draft, CancellationToken.None);
            metrics.Accepted(source.Id, outcome.Duplicate, time.GetElapsedTime(started).TotalSeconds);
            return (outcome, null);
        }
        catch (Exception)
        {
            metrics.Rejected(source.Id, "store_unavailable");
            return (null, Problems.StoreUnavailable());
        }
    }

    /// <summary>Counts a post refused or discarded before storage (invalid fields, honeypot) in the intake metrics.</summary>
    public void Refused(string sourceId, string reason) => metrics.Rejected(sourceId, reason);

    /// <summary>The dedup key a stored draft got (mirrors <see cref="AppendAsync"/>).</summary>
    public static string DedupKeyOf(string? key, byte[] body) => key ?? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>422 naming each field: <c>detail</c> lists them, <c>errors</c> has one entry per field.</summary>
    public static IResult Invalid(IReadOnlyList<FieldError> errors, string what) =>
        Problems.Create(StatusCodes.Status422UnprocessableEntity, InvalidSlug, $"Invalid {what}",
            CanonicalInput.Describe(errors),
            new Dictionary<string, object?>
            {
                ["errors"] = errors.Select(e => new FieldProblem(e.Field, e.Detail)).ToList(),
            });

    public static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var v) && v.ToString() is { Length: > 0 } s ? s : null;

    public static bool IsJson(string? contentType) => Media(contentType) is { } m
        && (m.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (m.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && m.EndsWith("+json", StringComparison.OrdinalIgnoreCase)));

    public static bool IsForm(string? contentType) =>
        Media(contentType)?.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true;

    private static string? Media(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return null;
        var semi = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semi >= 0 ? contentType[..semi] : contentType).Trim();
    }
}
