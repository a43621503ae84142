using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Junction.Config;
using Junction.State;
using Junction.Tests.Support;
using static Junction.Tests.Capture.CaptureKit;

namespace Junction.Tests.Project;

/// <summary>A server with products and tags configured, and helpers to post canonical events and read people.</summary>
internal static class ProjectKit
{
    public static readonly Policy Rules = new()
    {
        Tags = new HashSet<string>(StringComparer.Ordinal) { "customer", "paid:course-pro", "paid:coaching" },
        Products =
        [
            new ProductPolicy { Id = "course-pro", Match = [new ProductMatch("app", Sku: "course-pro")], TagsWhileActive = ["paid:course-pro", "customer"] },
            new ProductPolicy { Id = "coaching", Match = [new ProductMatch("app", Sku: "coaching")], TagsWhileActive = ["paid:coaching"] },
        ],
        // The events API source stands in for a payment processor and a form here, as `ownership:` lets a user say.
        Ownership = Ownership.For(Junction.Providers.ProviderRegistry.Kinds).WithOverrides(new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            [Ownership.Money] = [ProviderKinds.Payments, "app"],
            [Ownership.SubscriptionPreferences] = [ProviderKinds.Email, ProviderKinds.Forms, "app"],
        }),
    };

    public static JunctionConfig Config(string storage = "") => ServerConfig(storage: storage) with { Policy = Rules };

    public static string Paid(string orderId, string email, string at, string sku = "course-pro", string? token = null, long amount = 4900)
    {
        var tokenField = token is null ? "" : $",\"purchase_token\":\"{token}\"";
        return $$$"""
            {"type":"order.paid","occurred_at":"{{{at}}}","subject":{"email":"{{{email}}}"{{{tokenField}}}},
             "order":{"order_id":"{{{orderId}}}","amount":{{{amount}}},"currency":"usd","items":[{"sku":"{{{sku}}}","quantity":1,"amount":{{{amount}}}}]}}
            """;
    }

    public static string Refund(string orderId, string email, string at, long amount = 4900) =>
        $$$"""
        {"type":"order.refunded","occurred_at":"{{{at}}}","subject":{"email":"{{{email}}}"},
         "order":{"order_id":"{{{orderId}}}","refund_amount":{{{amount}}},"fully_refunded":true,"currency":"usd"}}
        """;

    public static string OptIn(string email, string at, string? anonymousId = null, string? utm = null)
    {
        var anon = anonymousId is null ? "" : $",\"anonymous_id\":\"{anonymousId}\"";
        var touch = utm is null ? "" : $",\"first_touch\":{{\"utm_source\":\"{utm}\"}},\"attribution\":{{\"utm_source\":\"{utm}\"}}";
        return $$$"""
            {"type":"optin","occurred_at":"{{{at}}}","subject":{"email":"{{{email}}}"{{{anon}}}},
             "consent":[{"channel":"email","granted":true}]{{{touch}}}}
            """;
    }

    public static async Task<string> PostEventAsync(JunctionServer server, string json)
    {
        using var response = await PostJsonAsync(server.Client, "/v1/events", json, bearer: ApiKey);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Polls GET until <paramref name="until"/> holds (the projector runs in the background).</summary>
    public static async Task<JsonElement> PersonAsync(JunctionServer server, string query, Func<JsonElement, bool> until)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(15);
        JsonElement last = default;
        string lastBody = "";
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            using var response = await server.Admin.GetAsync(query);
            lastBody = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                last = JsonDocument.Parse(lastBody).RootElement.Clone();
                if (until(last)) return last;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"{query} never reached the expected state; last answer: {lastBody}");
        return last;
    }

    public static IEnumerable<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!);

    public static JsonElement Entitlement(JsonElement person, string product) =>
        person.GetProperty("entitlements").EnumerateArray().Single(e => e.GetProperty("product").GetString() == product);

    public static bool Has(JsonElement person, string product, string state) =>
        person.GetProperty("entitlements").ValueKind == JsonValueKind.Array
        && person.GetProperty("entitlements").EnumerateArray().Any(e => e.GetProperty("product").GetString() == product && e.GetProperty("state").GetString() == state);

    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string path) => await client.GetFromJsonAsync<JsonElement>(path);
}
