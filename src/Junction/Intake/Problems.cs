using Microsoft.AspNetCore.Http.HttpResults;

namespace Junction.Intake;

/// <summary>RFC 9457 problem bodies: each says what was wrong and, where it applies, which field.</summary>
public static class Problems
{
    private const string TypeBase = "https://junction.dev/problems/";

    public static ProblemHttpResult Create(int status, string slug, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: TypeBase + slug, extensions: extensions);

    public static ProblemHttpResult UnknownSource(string source) =>
        Create(StatusCodes.Status404NotFound, "unknown-source", "Unknown source",
            $"No source '{source}' is configured; hooks are posted to /v1/hooks/{{source id from the sources: section}}.");

    public static ProblemHttpResult UnsupportedMediaType(string? contentType) =>
        Create(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported content type",
            $"Content-Type '{contentType ?? "(none)"}' is not accepted; expected application/json or application/x-www-form-urlencoded.");

    public static ProblemHttpResult TooLarge(long? length, int max) =>
        Create(StatusCodes.Status413PayloadTooLarge, "body-too-large", "Body too large",
            $"The body{(length is null ? "" : $" ({length} bytes)")} is over this source's limit of {max} bytes (sources.<id>.max_body_bytes).");

    public static ProblemHttpResult Unauthorized(string reason, string detail) =>
        Create(StatusCodes.Status401Unauthorized, reason.Replace('_', '-'), "Signature check failed", detail,
            new Dictionary<string, object?> { ["reason"] = reason });

    public static ProblemHttpResult BadRequest(string slug, string detail, string? field = null) =>
        Create(StatusCodes.Status400BadRequest, slug, "Bad request", detail,
            field is null ? null : new Dictionary<string, object?> { ["field"] = field });

    /// <summary>400 for a body that is not acceptable JSON; <paramref name="detail"/> is <see cref="JsonBody.Problem"/>'s sentence.</summary>
    public static ProblemHttpResult MalformedBody(string detail) =>
        BadRequest("malformed-body", detail, "body");

    public static ProblemHttpResult StoreUnavailable() =>
        Create(StatusCodes.Status503ServiceUnavailable, "store-unavailable", "Not stored",
            "The event could not be stored durably and was not accepted; send it again.");
}
