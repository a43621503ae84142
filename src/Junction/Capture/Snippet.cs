using System.Security.Cryptography;
using System.Text;
using Junction.Config;

namespace Junction.Capture;

/// <summary>
/// GET /v1/snippet.js[?source=ID]: the landing-page script (<c>snippet.js</c>, embedded). With
/// <c>?source=</c> naming a form source, that source's <c>require_consent</c> becomes the script's
/// default. Cached by browsers for an hour and revalidated by ETag.
/// </summary>
public static class Snippet
{
    private const string DefaultsMarker = "/*JUNCTION_DEFAULTS*/{}";

    private static readonly Lazy<string> Script = new(() =>
    {
        using var stream = typeof(Snippet).Assembly.GetManifestResourceStream("Junction.Capture.snippet.js")
            ?? throw new InvalidOperationException("snippet.js is not embedded");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    });

    public static string Text(bool requireConsent) =>
        requireConsent ? Script.Value.Replace(DefaultsMarker, "{\"requireConsent\":true}", StringComparison.Ordinal) : Script.Value;

    public static IResult Serve(HttpContext http, JunctionConfig config)
    {
        var source = http.Request.Query["source"].ToString();
        var requireConsent = source.Length > 0 && config.Sources.TryGetValue(source, out var s)
            && s.Provider == FormProvider.ProviderName && FormSource.From(s).RequireConsent;
        var bytes = Encoding.UTF8.GetBytes(Text(requireConsent));
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 8)) + "\"";
        var headers = http.Response.Headers;
        headers.CacheControl = "public, max-age=3600";
        headers.ETag = etag;
        headers.XContentTypeOptions = "nosniff";
        if (http.Request.Headers.IfNoneMatch.ToString().Split(',').Any(t => t.Trim() == etag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        return TypedResults.Bytes(bytes, "application/javascript; charset=utf-8");
    }

}
