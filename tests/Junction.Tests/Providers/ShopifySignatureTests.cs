using Junction.Providers;
using Junction.Integrations.Shopify;

namespace Junction.Tests.Providers;

public sealed class ShopifySignatureTests
{
    private const string Secret = "hush_shopify_client_secret_1";
    private const string NewSecret = "hush_shopify_client_secret_2";
    private const string Body = """{"id":820982911946154508,"email":"jon@example.com","financial_status":"paid","total_price":"199.00"}""";

    // Nothing time-bound is signed: the clock and tolerance must not matter.
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private static readonly ShopifyProvider Provider = new();

    private static WebhookRequest Signed(string hmac, string body = Body) =>
        TestSigning.Request(body, ("X-Shopify-Hmac-Sha256", hmac), ("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"));

    private static SignatureCheck Verify(WebhookRequest request, params string[] secrets) =>
        Provider.Verify(request, secrets, TimeSpan.FromSeconds(300), Now);

    [Fact]
    public void Verify_AcceptsValidSignature()
    {
        var check = Verify(Signed(TestSigning.Shopify(Secret, Body)), Secret);

        Assert.True(check.IsValid, check.Detail);
    }

    [Fact]
    public void Verify_IgnoresClock_BecauseNoTimestampIsSigned()
    {
        var request = Signed(TestSigning.Shopify(Secret, Body));

        Assert.True(Provider.Verify(request, [Secret], TimeSpan.FromSeconds(1), Now.AddYears(5)).IsValid);
    }

    [Fact]
    public void Verify_ReadsHeaderCaseInsensitively()
    {
        var request = TestSigning.Request(Body, ("x-shopify-hmac-sha256", TestSigning.Shopify(Secret, Body)));

        Assert.True(Verify(request, Secret).IsValid);
    }

    [Fact]
    public void Verify_AcceptsSignatureFromRotatedSecret()
    {
        var request = Signed(TestSigning.Shopify(NewSecret, Body));

        Assert.True(Verify(request, Secret, NewSecret).IsValid);
        Assert.True(Verify(request, NewSecret, Secret).IsValid);
        Assert.Equal(SignatureFailure.BadSignature, Verify(request, Secret).Failure);
    }

    [Fact]
    public void Verify_RejectsTamperedBody()
    {
        var tampered = Body.Replace("199.00", "199.01", StringComparison.Ordinal);

        var check = Verify(Signed(TestSigning.Shopify(Secret, Body), tampered), Secret);

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("X-Shopify-Hmac-Sha256", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RejectsHexEncodedMac()
    {
        // Right MAC, wrong encoding: Shopify sends base64.
        var hex = Convert.ToHexStringLower(Convert.FromBase64String(TestSigning.Shopify(Secret, Body)));

        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed(hex), Secret).Failure);
    }

    [Fact]
    public void Verify_ReportsMissingHeader()
    {
        var check = Verify(TestSigning.Request(Body), Secret);

        Assert.Equal(SignatureFailure.MissingSignature, check.Failure);
        Assert.Contains("X-Shopify-Hmac-Sha256", check.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not base64 at all!!")]
    [InlineData("====")]
    [InlineData("QUJD")] // valid base64, 3 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // 80 bytes: longer than the stack buffer
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")] // right length, wrong MAC
    public void Verify_GarbageSignature_IsBadNotACrash(string header)
    {
        Assert.Equal(SignatureFailure.BadSignature, Verify(Signed(header), Secret).Failure);
    }

    private static WebhookRequest Delivery(string topic, string webhookId, string body = Body) =>
        TestSigning.Request(body, ("X-Shopify-Hmac-Sha256", TestSigning.Shopify(Secret, body)), ("X-Shopify-Topic", topic), ("X-Shopify-Webhook-Id", webhookId));

    // The webhook id is not signed: a captured delivery replayed under a fresh id must still be a duplicate.
    [Fact]
    public void DedupKey_ComesFromTheSignedBody_SoAFreshWebhookIdIsStillADuplicate()
    {
        var original = Provider.DedupKey(Delivery("orders/paid", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"));
        var replay = Provider.DedupKey(Delivery("orders/paid", "00000000-fresh-id-0000-000000000000"));

        Assert.NotNull(original);
        Assert.Equal(original, replay);
        Assert.Contains("820982911946154508", original, StringComparison.Ordinal);
        Assert.DoesNotContain("b54557e4", original, StringComparison.Ordinal);
    }

    [Fact]
    public void DedupKey_DiffersForANewVersionOfTheSameOrder_AndForAnotherTopic()
    {
        var v1 = Body.Replace("}", ""","updated_at":"2026-11-20T10:00:06-05:00"}""", StringComparison.Ordinal);
        var v2 = Body.Replace("}", ""","updated_at":"2026-11-21T08:00:00-05:00"}""", StringComparison.Ordinal);

        Assert.NotEqual(Provider.DedupKey(Delivery("orders/updated", "a", v1)), Provider.DedupKey(Delivery("orders/updated", "a", v2)));
        Assert.NotEqual(Provider.DedupKey(Delivery("orders/create", "a", v1)), Provider.DedupKey(Delivery("orders/paid", "a", v1)));
    }

    [Theory]
    [InlineData("refunds/create")]      // an order relabelled as a refund
    [InlineData("disputes/create")]     // … as a chargeback
    [InlineData("orders/fulfilled")]    // … as fulfilled, though its body says nothing was
    [InlineData("checkouts/create")]
    public void Verify_RefusesATopicHeaderTheSignedBodyContradicts(string forgedTopic)
    {
        var check = Verify(Delivery(forgedTopic, "fresh-id"), Secret);

        Assert.Equal(SignatureFailure.HeaderMismatch, check.Failure);
        Assert.Contains("X-Shopify-Topic", check.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("jon@example.com", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RefusesAPendingOrderReplayedAsOrdersPaid()
    {
        var pending = Body.Replace("\"paid\"", "\"pending\"", StringComparison.Ordinal);

        Assert.True(Verify(Delivery("orders/create", "a", pending), Secret).IsValid);
        Assert.Equal(SignatureFailure.HeaderMismatch, Verify(Delivery("orders/paid", "b", pending), Secret).Failure);
    }

    [Fact]
    public void Verify_AcceptsARefundBodyAsRefundsCreate_ButNotAsAnOrderTopic()
    {
        const string refund = """{"id":509562969,"order_id":820982911946154508,"created_at":"2026-11-21T09:00:00-05:00","refund_line_items":[],"transactions":[]}""";

        Assert.True(Verify(Delivery("refunds/create", "a", refund), Secret).IsValid);
        Assert.Equal(SignatureFailure.HeaderMismatch, Verify(Delivery("orders/paid", "b", refund), Secret).Failure);
    }

    [Fact]
    public void ValidateSecret_AcceptsAnyNonEmptySecret()
    {
        Assert.Null(Provider.ValidateSecret(Secret));
    }
}
