using System.Collections.Concurrent;
using System.Text;
using Junction.Canonical;
using Junction.Config;
using Junction.Normalize;
using Junction.Providers;
using Junction.Integrations.PayPal;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Providers.PayPal;

/// <summary>PayPal IPN: the post-back verification against a fake PayPal, and the form fields mapped one by one.</summary>
public sealed class PayPalIpnTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 18, 45, 13, TimeSpan.Zero);
    private static readonly PayPalIpnMapper Mapper = new();

    private readonly PayPalIpnProvider _provider = new();
    private readonly HttpClient _http = new();
    private readonly ConcurrentQueue<byte[]> _postBacks = new();
    private readonly ConcurrentQueue<(string? ContentType, string UserAgent)> _postBackHeaders = new();
    private Func<byte[], IResult>? _answer;
    private FakeApi? _paypal;

    public async ValueTask InitializeAsync()
    {
        _paypal = await FakeApi.StartAsync(app =>
        {
            app.MapPost("/cgi-bin/webscr", async (HttpRequest request) =>
            {
                using var copy = new MemoryStream();
                await request.Body.CopyToAsync(copy);
                var bytes = copy.ToArray();
                _postBacks.Enqueue(bytes);
                // Read here: Kestrel reuses a request's header collection once it has been answered.
                _postBackHeaders.Enqueue((request.ContentType, request.Headers.UserAgent.ToString()));
                return _answer?.Invoke(bytes) ?? Results.Text("INVALID");
            });
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_paypal is not null) await _paypal.DisposeAsync();
        _http.Dispose();
    }

    private SourceConfig Source(string? receiver = null)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal) { ["ipn_url"] = new Uri(_paypal!.BaseUrl, "/cgi-bin/webscr").ToString() };
        if (receiver is not null) options["receiver_email"] = receiver;
        return new SourceConfig { Id = "ipn", Provider = "paypal-ipn", Secrets = [], Options = options };
    }

    private async Task<SignatureCheck> VerifyAsync(byte[] body, SourceConfig? source = null) =>
        await _provider.VerifyAsync(new WebhookRequest(body, _ => null), source ?? Source(), new VerifyContext(Now, _http, new(StringComparer.Ordinal)), CancellationToken.None);

    /// <summary>PayPal's rule: VERIFIED only for exactly "cmd=_notify-validate&amp;" + the message as it sent it.</summary>
    private void AnswerLikePayPal(byte[] original) =>
        _answer = posted => posted.AsSpan().SequenceEqual([.. "cmd=_notify-validate&"u8, .. original]) ? Results.Text("VERIFIED") : Results.Text("INVALID");

    private static RawInput Raw(string form, string contentType = "application/x-www-form-urlencoded") => new()
    {
        RawId = "raw-ipn",
        Source = "ipn",
        Provider = "paypal-ipn",
        Body = PayPalFixtures.Bytes(form),
        Headers = new Dictionary<string, string> { ["content-type"] = contentType },
        ContentType = contentType,
        TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
        ReceivedAt = Now,
        DedupKey = "x",
    };

    private static CanonicalEvent Only(MapResult result) => Assert.Single(Assert.IsType<MapResult.Mapped>(result).Events);

    [Fact]
    public async Task PostBack_IsExactlyTheValidateCommandFollowedByTheOriginalBytes_AndVerifiedIsAccepted()
    {
        var body = PayPalFixtures.Bytes(PayPalFixtures.IpnWebAccept());
        AnswerLikePayPal(body);

        var check = await VerifyAsync(body);

        Assert.True(check.IsValid, check.Detail);
        var posted = Assert.Single(_postBacks);
        Assert.Equal("cmd=_notify-validate&" + PayPalFixtures.IpnWebAccept(), Encoding.ASCII.GetString(posted));
        var (contentType, userAgent) = Assert.Single(_postBackHeaders);
        Assert.Equal("application/x-www-form-urlencoded", contentType);
        Assert.False(string.IsNullOrEmpty(userAgent));
    }

    [Fact]
    public async Task InvalidFromPayPal_IsRefused()
    {
        AnswerLikePayPal(PayPalFixtures.Bytes(PayPalFixtures.IpnWebAccept()));
        var forged = PayPalFixtures.Bytes(PayPalFixtures.IpnWebAccept().Replace("mc_gross=49.00", "mc_gross=4900.00", StringComparison.Ordinal));

        var check = await VerifyAsync(forged);

        Assert.Equal(SignatureFailure.BadSignature, check.Failure);
        Assert.Contains("INVALID", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PayPalErrorOrUnreachable_FailsClosed()
    {
        _answer = _ => Results.Text("Service Unavailable", statusCode: 503);
        var body = PayPalFixtures.Bytes(PayPalFixtures.IpnWebAccept());

        var error = await VerifyAsync(body);
        var unreachable = await VerifyAsync(body, Source() with
        {
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["ipn_url"] = "http://127.0.0.1:9/cgi-bin/webscr" },
        });

        Assert.Equal(SignatureFailure.BadSignature, error.Failure);
        Assert.Contains("503", error.Detail, StringComparison.Ordinal);
        Assert.Equal(SignatureFailure.BadSignature, unreachable.Failure);
        Assert.Contains("failed", unreachable.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PaymentToAnotherReceiver_IsRefused_WithoutAskingPayPal()
    {
        var body = PayPalFixtures.Bytes(PayPalFixtures.IpnWebAccept());
        AnswerLikePayPal(body);

        var other = await VerifyAsync(body, Source(receiver: "someone-else@example.com"));
        var ours = await VerifyAsync(body, Source(receiver: "Seller@Example.com"));

        Assert.Equal(SignatureFailure.BadSignature, other.Failure);
        Assert.Contains("receiver_email", other.Detail, StringComparison.Ordinal);
        Assert.True(ours.IsValid, ours.Detail);
        Assert.Single(_postBacks);
    }

    [Fact]
    public void DedupKey_IsTransactionAndStatus_ElseTheTrackId()
    {
        Assert.Equal("61E67681CH3238416:Completed", _provider.DedupKey(new WebhookRequest(PayPalFixtures.Bytes(PayPalFixtures.IpnWebAccept()), _ => null)));
        Assert.Equal("61E67681CH3238416:Pending", _provider.DedupKey(new WebhookRequest(PayPalFixtures.Bytes(PayPalFixtures.IpnWebAccept("Pending")), _ => null)));
        Assert.Equal("9f2c1a2b3d4e5", _provider.DedupKey(new WebhookRequest("txn_type=subscr_cancel&subscr_id=I-1&ipn_track_id=9f2c1a2b3d4e5"u8.ToArray(), _ => null)));
    }

    [Fact]
    public void Completed_IsOrderPaid_DecodedInTheNamedCharset_InPacificTimeKeptAsStated()
    {
        var result = Mapper.Map(Raw(PayPalFixtures.IpnWebAccept()));
        var e = Only(result);

        Assert.Equal("web_accept/Completed", result.ProviderType);
        Assert.Equal(EventTypes.OrderPaid, e.Type);
        Assert.Equal("61E67681CH3238416", e.Order!.OrderId);
        Assert.Equal(4900, e.Order.Amount);
        Assert.Equal("USD", e.Order.Currency);
        Assert.Equal("jose.buyer@example.com", e.Subject.Email);
        Assert.Equal("Jose.Buyer@Example.com", e.Subject.EmailRaw);
        Assert.Equal("LPLWNMTBWMFAY", e.Subject.CustomerId);
        Assert.Equal("José García", e.Subject.Name); // windows-1252 %E9 / %ED
        Assert.Equal("jt_ipn_1", e.Subject.PurchaseToken);
        Assert.Equal("newsletter", e.Attribution!.UtmSource);
        var item = Assert.Single(e.Order.Items);
        Assert.Equal("course-pro", item.Sku);
        Assert.Equal("Course Pro", item.Name);
        Assert.Equal(1, item.Quantity);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 18, 45, 12, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal(TimeSpan.Zero, e.OccurredAt.Offset);
        Assert.Equal("-08:00", e.OriginalTimezone);
        Assert.True(e.TestMode);
        Assert.Equal(CanonicalEvent.MakeId("ipn", "order.paid:61E67681CH3238416"), e.Id);
    }

    [Fact]
    public void SummerTime_IsPdt_SevenHoursBehindUtc()
    {
        var form = PayPalFixtures.IpnWebAccept().Replace("payment_date=10%3A45%3A12+Nov+20%2C+2026+PST", "payment_date=09%3A05%3A01+Jul+4%2C+2026+PDT", StringComparison.Ordinal);

        var e = Only(Mapper.Map(Raw(form)));

        Assert.Equal(new DateTimeOffset(2026, 7, 4, 16, 5, 1, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal("-07:00", e.OriginalTimezone);
    }

    [Fact]
    public void Utf8Charset_IsHonoured()
    {
        var form = PayPalFixtures.IpnWebAccept().Replace("charset=windows-1252", "charset=UTF-8", StringComparison.Ordinal)
            .Replace("first_name=Jos%E9", "first_name=Jos%C3%A9", StringComparison.Ordinal).Replace("last_name=Garc%EDa", "last_name=Garc%C3%ADa", StringComparison.Ordinal);

        Assert.Equal("José García", Only(Mapper.Map(Raw(form))).Subject.Name);
    }

    [Fact]
    public void Cart_ListsEveryNumberedItem()
    {
        var form = "mc_gross=65.00&payment_date=10%3A45%3A12+Nov+20%2C+2026+PST&payment_status=Completed&charset=windows-1252&payer_email=buyer%40example.com"
            + "&txn_id=3KM95011E9839134A&txn_type=cart&mc_currency=EUR&num_cart_items=2"
            + "&item_name1=Course+Pro&item_number1=course-pro&quantity1=1&mc_gross_1=49.00"
            + "&item_name2=Sticker&item_number2=sticker&quantity2=4&mc_gross_2=16.00";

        var e = Only(Mapper.Map(Raw(form)));

        Assert.Equal("EUR", e.Order!.Currency);
        Assert.Collection(e.Order.Items,
            i => { Assert.Equal("course-pro", i.Sku); Assert.Equal(1, i.Quantity); Assert.Equal(4900, i.Amount); },
            i => { Assert.Equal("sticker", i.Sku); Assert.Equal("Sticker", i.Name); Assert.Equal(4, i.Quantity); Assert.Equal(1600, i.Amount); });
        Assert.False(e.TestMode);
    }

    [Theory]
    [InlineData("Pending", "order.pending")]
    [InlineData("Failed", "payment.failed")]
    [InlineData("Denied", "payment.failed")]
    public void OtherStatuses_ArePendingOrFailed(string status, string canonical)
    {
        Assert.Equal(canonical, Only(Mapper.Map(Raw(PayPalFixtures.IpnWebAccept(status)))).Type);
    }

    [Fact]
    public void Refund_NamesTheParentPayment_WithThePositiveRefundAmount()
    {
        var form = "mc_gross=-49.00&protection_eligibility=Eligible&payer_id=LPLWNMTBWMFAY&payment_date=08%3A10%3A02+Nov+22%2C+2026+PST"
            + "&payment_status=Refunded&charset=windows-1252&first_name=Jos%E9&mc_fee=-1.42&notify_version=3.9&reason_code=refund"
            + "&payer_email=Jose.Buyer%40Example.com&txn_id=5LD34271FN7460623&parent_txn_id=61E67681CH3238416&payment_type=instant"
            + "&last_name=Garc%EDa&receiver_email=seller%40example.com&item_name=Course+Pro&mc_currency=USD&item_number=course-pro"
            + "&ipn_track_id=b1a2c3d4e5f60";

        var e = Only(Mapper.Map(Raw(form)));

        Assert.Equal(EventTypes.OrderRefunded, e.Type);
        Assert.Equal("61E67681CH3238416", e.Order!.OrderId);
        Assert.Equal("5LD34271FN7460623", e.Order.RefundId);
        Assert.Equal(4900, e.Order.RefundAmount);
        Assert.Null(e.Order.FullyRefunded);
        Assert.Equal("jose.buyer@example.com", e.Subject.Email);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 16, 10, 2, TimeSpan.Zero), e.OccurredAt);
    }

    [Fact]
    public void ChargebackReversal_RefundsAndOpensAChargeback_ThatCanceledReversalClosesAsWon()
    {
        const string common = "payer_email=buyer%40example.com&parent_txn_id=61E67681CH3238416&mc_currency=USD&charset=windows-1252";
        var reversed = Assert.IsType<MapResult.Mapped>(Mapper.Map(Raw(common
            + "&mc_gross=-49.00&payment_status=Reversed&reason_code=chargeback&txn_id=1JD71434G5411622E&payment_date=11%3A00%3A00+Dec+1%2C+2026+PST")));
        var canceled = Only(Mapper.Map(Raw(common
            + "&mc_gross=49.00&payment_status=Canceled_Reversal&reason_code=other&txn_id=9TY78401HS6393713&payment_date=11%3A00%3A00+Dec+20%2C+2026+PST")));

        Assert.Collection(reversed.Events,
            refund =>
            {
                Assert.Equal(EventTypes.OrderRefunded, refund.Type);
                Assert.Equal(4900, refund.Order!.RefundAmount);
                Assert.Null(refund.Order.FullyRefunded); // a reversal can be partial; the original amount is not in the message
            },
            opened =>
            {
                Assert.Equal(EventTypes.ChargebackOpened, opened.Type);
                Assert.Equal("61E67681CH3238416", opened.Chargeback!.DisputeId);
                Assert.Equal("chargeback", opened.Chargeback.Reason);
            });
        Assert.Equal(EventTypes.ChargebackClosed, canceled.Type);
        Assert.Equal("won", canceled.Chargeback!.Outcome);
        Assert.Equal("61E67681CH3238416", canceled.Chargeback.DisputeId);
        Assert.Equal("61E67681CH3238416", canceled.Order!.OrderId);
    }

    [Fact]
    public void SubscriptionMessages_AreRenewedAndCanceled()
    {
        var payment = Only(Mapper.Map(Raw("txn_type=subscr_payment&subscr_id=I-NARPL1C0KAHA&payment_status=Completed&txn_id=7TX36278UK4011452"
            + "&mc_gross=5.50&mc_currency=AUD&payment_date=18%3A13%3A35+Apr+17%2C+2026+PDT&payer_email=buyer%40example.com&payer_id=K48P3FBQZNRH4"
            + "&item_name=Digital+Subscription&charset=windows-1252&test_ipn=1")));
        var cancel = Only(Mapper.Map(Raw("txn_type=subscr_cancel&subscr_id=I-NARPL1C0KAHA&subscr_date=18%3A20%3A05+May+2%2C+2026+PDT"
            + "&payer_email=buyer%40example.com&payer_id=K48P3FBQZNRH4&charset=windows-1252&ipn_track_id=baca4df432b88")));

        Assert.Equal(EventTypes.SubscriptionRenewed, payment.Type);
        Assert.Equal("I-NARPL1C0KAHA", payment.Subscription!.SubscriptionId);
        Assert.Equal(550, payment.Order!.Amount);
        Assert.Equal("AUD", payment.Order.Currency);
        Assert.Equal(EventTypes.SubscriptionCanceled, cancel.Type);
        Assert.Equal("I-NARPL1C0KAHA", cancel.Subscription!.SubscriptionId);
        Assert.Equal(new DateTimeOffset(2026, 5, 3, 1, 20, 5, TimeSpan.Zero), cancel.Subscription.CanceledAt);
        Assert.Equal("-07:00", cancel.OriginalTimezone);
        Assert.Equal("buyer@example.com", cancel.Subject.Email);
    }

    [Fact]
    public void EndOfTerm_ProfileCancel_AndFailedSubscriptionPayments_AreMapped()
    {
        var eot = Only(Mapper.Map(Raw("txn_type=subscr_eot&subscr_id=I-NARPL1C0KAHA&subscr_date=18%3A20%3A05+Jun+2%2C+2026+PDT"
            + "&payer_email=buyer%40example.com&payer_id=K48P3FBQZNRH4&charset=windows-1252&ipn_track_id=c1a4df432b881")));
        Assert.Equal(EventTypes.SubscriptionCanceled, eot.Type);
        Assert.Equal("I-NARPL1C0KAHA", eot.Subscription!.SubscriptionId);
        Assert.Equal(new DateTimeOffset(2026, 6, 3, 1, 20, 5, TimeSpan.Zero), eot.Subscription.EndsAt);
        Assert.Equal(CanonicalEvent.MakeId("ipn", "subscription.canceled:I-NARPL1C0KAHA:eot"), eot.Id);

        var profile = Only(Mapper.Map(Raw("txn_type=recurring_payment_profile_cancel&recurring_payment_id=I-FW1PDN5VHYCN&profile_status=Cancelled"
            + "&payer_email=buyer%40example.com&charset=windows-1252&ipn_track_id=3e2a1b9c7d001")));
        Assert.Equal(EventTypes.SubscriptionCanceled, profile.Type);
        Assert.Equal("I-FW1PDN5VHYCN", profile.Subscription!.SubscriptionId);
        Assert.Equal(Now, profile.OccurredAt);

        var failed = Only(Mapper.Map(Raw("txn_type=subscr_failed&subscr_id=I-NARPL1C0KAHA&mc_gross=5.50&mc_currency=AUD"
            + "&payment_date=03%3A11%3A02+May+17%2C+2026+PDT&payer_email=buyer%40example.com&charset=windows-1252&ipn_track_id=9f0e1d2c3b4a5")));
        Assert.Equal(EventTypes.PaymentFailed, failed.Type);
        Assert.Equal("I-NARPL1C0KAHA", failed.Subscription!.SubscriptionId);
        Assert.Equal(550, failed.Order!.Amount);
        Assert.Equal(new DateTimeOffset(2026, 5, 17, 10, 11, 2, TimeSpan.Zero), failed.OccurredAt);
        Assert.Equal("buyer@example.com", failed.Subject.Email);
    }

    [Fact]
    public void ChargebackSettlement_ClosesTheChargebackLost_ReimbursementWon()
    {
        static string Adjustment(string reason) => "txn_type=adjustment&payment_status=Completed&reason_code=" + reason
            + "&parent_txn_id=61E67681CH3238416&txn_id=8MY2937UJ7736581L&mc_gross=-49.00&mc_currency=USD"
            + "&payment_date=09%3A12%3A44+Dec+14%2C+2026+PST&charset=windows-1252&ipn_track_id=7b3c2d1e0f9a8";

        var lost = Only(Mapper.Map(Raw(Adjustment("chargeback_settlement"))));
        Assert.Equal(EventTypes.ChargebackClosed, lost.Type);
        Assert.Equal("lost", lost.Chargeback!.Outcome);
        Assert.Equal("61E67681CH3238416", lost.Order!.OrderId);
        Assert.Equal(4900, lost.Chargeback.Amount);
        Assert.Equal(CanonicalEvent.MakeId("ipn", "chargeback.closed:61E67681CH3238416"), lost.Id);

        Assert.Equal("won", Only(Mapper.Map(Raw(Adjustment("chargeback_reimbursement")))).Chargeback!.Outcome);
        Assert.IsType<MapResult.Ignored>(Mapper.Map(Raw(Adjustment("other"))));
    }

    [Fact]
    public void UnusedMessages_AreIgnored_AndBadFieldsQuarantinedByName()
    {
        Assert.IsType<MapResult.Ignored>(Mapper.Map(Raw("txn_type=subscr_signup&subscr_id=I-1&ipn_track_id=1")));
        Assert.IsType<MapResult.Ignored>(Mapper.Map(Raw("txn_type=web_accept&payment_status=Voided&txn_id=1")));

        Assert.StartsWith("payment_date:", Reason("payment_date=yesterday&payment_status=Completed&txn_id=1&mc_gross=1.00&mc_currency=USD"), StringComparison.Ordinal);
        Assert.StartsWith("payment_date:", Reason("payment_date=10%3A45%3A12+Nov+20%2C+2026+CET&payment_status=Completed&txn_id=1&mc_gross=1.00&mc_currency=USD"), StringComparison.Ordinal);
        Assert.StartsWith("mc_gross:", Reason("payment_date=10%3A45%3A12+Nov+20%2C+2026+PST&payment_status=Completed&txn_id=1&mc_currency=USD"), StringComparison.Ordinal);
        Assert.StartsWith("parent_txn_id:", Reason("payment_date=10%3A45%3A12+Nov+20%2C+2026+PST&payment_status=Refunded&txn_id=1&mc_gross=-1.00&mc_currency=USD"), StringComparison.Ordinal);
        Assert.StartsWith("charset:", Reason("charset=x-no-such-charset&payment_status=Completed"), StringComparison.Ordinal);
        Assert.StartsWith("txn_type, payment_status:", Reason("hello=world"), StringComparison.Ordinal);

        static string Reason(string form) => Assert.IsType<MapResult.Quarantined>(Mapper.Map(Raw(form))).Reason;
    }
}
