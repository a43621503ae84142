using System.Text;
using Junction.Canonical;
using Junction.Integrations.Shopify;
using Junction.Integrations.Stripe;
using Junction.Integrations.Zoom;
using Junction.Providers;
using Junction.Normalize;
using Junction.Tests.Providers.Payments;
using Junction.Tests.Support;

namespace Junction.Tests.Fuzz;

/// <summary>Inputs the fuzz run found that made a mapper or the normalizer throw, each pinned down.</summary>
public sealed class FuzzRegressionTests
{
    [Theory]
    [InlineData("99999999999999999999", "USD")]
    [InlineData("-99999999999999999999", "USD")]
    [InlineData("92233720368547758.08", "USD")]
    [InlineData("9223372036854775808", "JPY")]
    [InlineData("79228162514264337593543950335", "BHD")]
    public void Money_FromMajor_AnAmountBeyondALongInMinorUnits_IsNotAnAmount_RatherThanAnOverflow(string amount, string currency) =>
        Assert.Null(Money.FromMajor(amount, currency));

    [Fact]
    public void Money_FromMajor_TheLargestAmountThatFits_StillConverts() =>
        Assert.Equal(9_223_372_036_854_775_806, Money.FromMajor("92233720368547758.06", "USD"));

    [Fact]
    public void ShopifyOrder_WithATotalPriceOfTwentyNines_MapsWithoutAnAmount_InsteadOfTheMapperThrowing()
    {
        var body = Encoding.UTF8.GetString(Payloads.ShopifyOrderPaid(4242)).Replace("\"total_price\":\"49.00\"", "\"total_price\":\"99999999999999999999\"", StringComparison.Ordinal);
        Assert.Contains("99999999999999999999", body, StringComparison.Ordinal);
        var raw = PaymentsKit.Raw("shopify", body, headers: new Dictionary<string, string> { ["x-shopify-topic"] = "orders/paid" });

        var result = new ShopifyProvider().Mapper.Map(raw);

        var paid = Assert.Single(Assert.IsType<MapResult.Mapped>(result).Events);
        Assert.Null(paid.Order!.Amount);
    }

    [Theory]
    [InlineData("-9223372036854775808")]
    [InlineData("253402300800")]
    public void StripeEvent_WithACreatedTimeOutsideTheCalendar_IsQuarantinedNamingTheField_InsteadOfTheMapperThrowing(string created)
    {
        var body = Encoding.UTF8.GetString(Payloads.StripePaymentIntentSucceeded("evt_fuzz_created", created: 1)).Replace("\"created\": 1,", $"\"created\": {created},", StringComparison.Ordinal);
        Assert.Contains(created, body, StringComparison.Ordinal);

        var result = new StripeProvider().Mapper.Map(PaymentsKit.Raw("stripe", body));

        var quarantined = Assert.IsType<MapResult.Quarantined>(result);
        Assert.StartsWith($"created: expected a Unix time in seconds; got {created}", quarantined.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ZoomEvent_WithAnEventTimeOutsideTheCalendar_IsQuarantinedNamingTheField_InsteadOfTheMapperThrowing()
    {
        var body = Providers.Scheduling.ZoomFixtures.RegistrationCreated(eventTs: long.MaxValue);

        var result = new ZoomProvider().Mapper.Map(PaymentsKit.Raw("zoom", body));

        var quarantined = Assert.IsType<MapResult.Quarantined>(result);
        Assert.StartsWith("event_ts: expected a Unix time in milliseconds", quarantined.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ShopifyWebhook_SignedBodyWithInvalidUtf8InTheFieldTheTopicCheckReads_IsVerified_InsteadOfA500()
    {
        const string secret = "shopify_fuzz_regression_secret";
        byte[] body = [.. "{\"id\":1,\"financial_status\":\"pa"u8.ToArray(), 0xE2, 0x82, .. "id\",\"currency\":\"USD\"}"u8.ToArray()];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["X-Shopify-Hmac-Sha256"] = Sign.Shopify(secret, body),
            ["X-Shopify-Topic"] = "orders/paid",
        };
        var request = new WebhookRequest(body, name => headers.GetValueOrDefault(name));
        var provider = new ShopifyProvider();

        var check = provider.Verify(request, [secret], TimeSpan.FromMinutes(5), TimeProvider.System.GetUtcNow());

        Assert.True(check.IsValid, check.Detail);
        Assert.Null(provider.DedupKey(request)); // keyed by the body's hash; normalization quarantines it
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-www-form-urlencoded")]
    public void JsonBodyWithInvalidUtf8_IsQuarantinedBeforeTheMapper_EvenWhenItsContentTypeSaysForm(string contentType)
    {
        // The 1.5e5-body run: a Kajabi JSON body posted as a form, with a lone 0x80 in a string the mapper reads.
        byte[] body = [.. "{\"id\":\"a"u8.ToArray(), 0x80, .. "\"}"u8.ToArray()];
        var raw = PaymentsKit.Raw("kajabi", Encoding.Latin1.GetString(body), contentType) with { Body = body };

        Assert.Equal("body: invalid UTF-8 at byte 8; a JSON body must be UTF-8", Normalizer.InvalidJsonEncoding(raw));
        // A form's raw bytes are decoded leniently by its mapper: a stray Latin-1 byte is not this check's business.
        byte[] form = [.. "email=a%40x.com&name=Jos"u8.ToArray(), 0xE9];
        Assert.Null(Normalizer.InvalidJsonEncoding(PaymentsKit.Raw("gumroad", "", "application/x-www-form-urlencoded") with { Body = form }));
    }
}
