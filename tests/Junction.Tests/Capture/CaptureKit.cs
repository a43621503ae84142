using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Tests.Support;

namespace Junction.Tests.Capture;

/// <summary>A Junction with a form source, an api source and a standard-webhooks source, plus request helpers.</summary>
internal static class CaptureKit
{
    public const string ApiKey = "api-key-test-0123456789abcdef";
    public const string Landing = "landing";
    public const string Thanks = "https://example.com/thanks";
    public const string AllowedOrigin = "https://creator.example";

    public static JunctionConfig ServerConfig(string? redirect = Thanks, string? allowedOrigins = AllowedOrigin, string storage = "") => new()
    {
        Storage = storage.Length > 0 ? storage : TestStorage.NewSqlite(),
        Admin = new AdminConfig([JunctionServer.AdminToken]),
        ApiKeys = [ApiKey],
        Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
        {
            [Landing] = new()
            {
                Id = Landing,
                Provider = "form",
                Secrets = [],
                Options = Options(("redirect", redirect), ("allowed_origins", allowedOrigins), ("honeypot", "website")),
            },
            ["app"] = new() { Id = "app", Provider = "api", Secrets = [] },
            ["std"] = new() { Id = "std", Provider = "standard-webhooks", Secrets = [JunctionServer.StandardSecret] },
        },
        Path = "test.yaml",
    };

    private static Dictionary<string, string> Options(params (string Key, string? Value)[] pairs) =>
        pairs.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!, StringComparer.Ordinal);

    /// <summary>A client that does not follow redirects, so the 303 itself can be asserted.</summary>
    public static HttpClient NoRedirects(JunctionServer server) =>
        new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.Client.BaseAddress };

    public static string FormBody(params (string Key, string Value)[] fields) =>
        string.Join('&', fields.Select(f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value).Replace("%20", "+", StringComparison.Ordinal)));

    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string body, string source = Landing, string? origin = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/forms/{source}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        if (origin is not null) request.Headers.Add("Origin", origin);
        return await client.SendAsync(request);
    }

    public static async Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, string json, string? origin = null,
        string? bearer = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>The one canonical event a raw event gave, once normalized.</summary>
    public static async Task<JsonElement> SingleEventAsync(JunctionServer server, string rawId)
    {
        var normalized = await server.NormalizedAsync(rawId);
        Assert.True(normalized.Status == "mapped", $"expected mapped, got {normalized.Status}: {normalized.Reason}");
        return Assert.Single(normalized.Events);
    }

    public static async Task<List<JsonElement>> EventsAsync(JunctionServer server, string source)
    {
        var page = await server.Admin.GetFromJsonAsync<JsonElement>($"/v1/events?source={source}&limit=1000");
        return [.. page.GetProperty("items").EnumerateArray()];
    }

    public static string? Str(this JsonElement e, string path)
    {
        var current = e;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current)) return null;
        }
        return current.ValueKind == JsonValueKind.Null ? null : current.ToString();
    }

    public static JsonElement Consent(this JsonElement e, string channel) =>
        e.GetProperty("consent").EnumerateArray().Single(c => c.GetProperty("channel").GetString() == channel);

    public static List<string> ProblemFields(JsonElement problem) =>
        [.. problem.GetProperty("errors").EnumerateArray().Select(x => x.GetProperty("field").GetString()!)];
}
