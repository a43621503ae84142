using System.Text.Json.Serialization;
using Junction.Intake;

namespace Junction.Capture;

/// <summary>What a form or API post is answered with once stored: the canonical event's id (deterministic, so known before normalization).</summary>
public sealed record CaptureAccepted(string Id, string RawId, bool Duplicate, string TraceId);

/// <summary>RFC 9457 extension listing each bad field.</summary>
public sealed record FieldProblem(string Field, string Detail);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CaptureAccepted))]
[JsonSerializable(typeof(List<FieldProblem>))]
public sealed partial class CaptureJson : JsonSerializerContext;

/// <summary>What form and API posts share besides <see cref="RawAppend"/>: refusal metrics and the 422 naming each field.</summary>
public sealed class CaptureIntake(IntakeMetrics metrics)
{
    public const string InvalidSlug = "invalid-fields";

    /// <summary>Counts a post refused or discarded before storage (invalid fields, honeypot) in the intake metrics.</summary>
    public void Refused(string sourceId, string reason) => metrics.Rejected(sourceId, reason);

    /// <summary>422 naming each field: <c>detail</c> lists them, <c>errors</c> has one entry per field.</summary>
    public static IResult Invalid(IReadOnlyList<FieldError> errors, string what) =>
        Problems.Create(StatusCodes.Status422UnprocessableEntity, InvalidSlug, $"Invalid {what}",
            CanonicalInput.Describe(errors),
            new Dictionary<string, object?>
            {
                ["errors"] = errors.Select(e => new FieldProblem(e.Field, e.Detail)).ToList(),
            });
}
