using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Junction.Config;
using Junction.Providers;

namespace Junction.Integrations.Shopify;

/// <summary>
/// Shopify Admin REST API: <c>X-Shopify-Access-Token</c>, base URL <c>https://{shop}.myshopify.com</c>.
/// Backfill lists orders updated since a time (cursor paging by the Link header) and replays each as
/// the webhook its state implies, plus one refunds/create per refund it carries.
/// </summary>
public sealed partial class ShopifyApi : IProviderApi, IBackfill
{
    public const string ApiVersion = "2025-01";

    public string DefaultBaseUrl => "https://shop-domain-not-configured.myshopify.com";

    public IBackfill Backfill => this;

    public ValueTask AuthorizeAsync(HttpRequestMessage request, SourceConfig source, HttpClient http, CancellationToken cancellationToken)
    {
        request.Headers.TryAddWithoutValidation("X-Shopify-Access-Token",
            source.Option("api_key") ?? throw new InvalidOperationException($"sources.{source.Id}.api_key is not set"));
        return ValueTask.CompletedTask;
    }

    public async IAsyncEnumerable<BackfillItem> PullAsync(ProviderApiClient api, DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? next = $"/admin/api/{ApiVersion}/orders.json?status=any&limit=250&updated_at_min="
            + Uri.EscapeDataString(since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        while (next is not null)
        {
            var (body, response) = await api.GetAsync(next, cancellationToken);
            using (response)
            {
                next = response.Headers.TryGetValues("Link", out var links) ? NextLink(string.Join(",", links)) : null;
            }
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            foreach (var order in doc.RootElement.GetProperty("orders").EnumerateArray())
            {
                var id = order.GetProperty("id").GetRawText();
                var status = order.TryGetProperty("financial_status", out var fs) ? fs.GetString() : null;
                var topic = status is "paid" or "partially_refunded" or "refunded" ? "orders/paid" : "orders/create";
                var updated = order.TryGetProperty("updated_at", out var u) ? u.GetString() : "";
                yield return Item($"backfill:{topic}:{id}:{updated}", order.GetRawText(), topic);
                if (order.TryGetProperty("refunds", out var refunds) && refunds.ValueKind == System.Text.Json.JsonValueKind.Array)
                {
                    foreach (var refund in refunds.EnumerateArray())
                    {
                        yield return Item($"backfill:refunds/create:{refund.GetProperty("id").GetRawText()}", refund.GetRawText(), "refunds/create");
                    }
                }
            }
        }
    }

    private static BackfillItem Item(string key, string json, string topic) =>
        new(key, Encoding.UTF8.GetBytes(json), "application/json",
            new Dictionary<string, string> { ["x-shopify-topic"] = topic, ["x-junction-backfill"] = "shopify orders.json" });

    /// <summary>The rel="next" URL of a Link header (Shopify cursor pagination).</summary>
    internal static string? NextLink(string header)
    {
        foreach (Match m in LinkPart().Matches(header))
        {
            if (m.Groups["rel"].Value == "next") return m.Groups["url"].Value;
        }
        return null;
    }

    [GeneratedRegex("<(?<url>[^>]+)>;\\s*rel=\"(?<rel>[^\"]+)\"")]
    private static partial Regex LinkPart();
}
