using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Junction.Tests.Providers.Audience;
using Junction.Tests.Providers.Courses;
using Junction.Tests.Providers.Payments;
using Junction.Tests.Providers.PayPal;
using Junction.Tests.Providers.Scheduling;
using Junction.Tests.Support;

namespace Junction.Tests.Fuzz;

/// <summary>One source per provider under test, with the secret it is configured with and how a body for it is signed.</summary>
internal sealed record FuzzSource(string Id, string Provider, string Secret, Func<FuzzSource, byte[], long, string, FuzzSigned> Sign);

/// <summary>What a signed request adds to the body: headers and a query string (URL tokens).</summary>
internal sealed record FuzzSigned(IReadOnlyList<(string Name, string Value)> Headers, string Query);

/// <summary>
/// A real body from the provider tests' fixtures, as the provider sends it. <see cref="Unique"/> is a
/// piece of it that carries the provider's event id: replaced per case so that most mutated bodies
/// are new events that reach the mapper instead of answering as duplicates.
/// </summary>
internal sealed record FuzzFixture(string Name, FuzzSource Source, string ContentType, string Body, string? Unique,
    IReadOnlyList<(string Name, string Value)>? Headers = null, string Query = "");

/// <summary>
/// The sources and fixtures the fuzzer mutates: every provider a source may name that signs with a
/// shared secret or a URL token, plus PayPal IPN (verified by a post-back to a local fake that
/// answers VERIFIED). PayPal REST is left out: its certificate check needs an HTTPS certificate server.
/// </summary>
internal static class FuzzCorpus
{
    public const string Json = "application/json";
    public const string Form = "application/x-www-form-urlencoded";

    private static byte[] Hmac(string secret, string prefix, byte[] body) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes(prefix), .. body]);

    private static string Ts(long t) => t.ToString(CultureInfo.InvariantCulture);

    private static FuzzSigned Headers(params (string, string)[] headers) => new(headers, "");

    // Signatures over the raw bytes (the mutated body may not be UTF-8), written from each scheme's
    // description as in the provider tests' kits (Sign, PaymentsKit, AudienceKit, SchedulingKit, CoursesFixtures).
    public static readonly FuzzSource Stripe = new("stripe", "stripe", "whsec_fuzz_stripe_secret_0123",
        (s, b, t, _) => Headers(("Stripe-Signature", $"t={Ts(t)},v1={Convert.ToHexStringLower(Hmac(s.Secret, Ts(t) + ".", b))}")));
    public static readonly FuzzSource Shopify = new("shopify", "shopify", "fuzz_shopify_secret_0123",
        (s, b, _, id) => Headers(("X-Shopify-Hmac-Sha256", Convert.ToBase64String(Hmac(s.Secret, "", b))), ("X-Shopify-Webhook-Id", id)));
    public static readonly FuzzSource Standard = new("std", "standard-webhooks", JunctionServer.StandardSecret,
        (s, b, t, id) => Headers(("webhook-id", id), ("webhook-timestamp", Ts(t)), ("webhook-signature", Support.Sign.StandardWebhooks(s.Secret, id, t, b))));
    public static readonly FuzzSource Zoom = new("zoom", "zoom", "fuzz_zoom_secret_token_0123",
        (s, b, t, _) => Headers(("x-zm-request-timestamp", Ts(t)), ("x-zm-signature", "v0=" + Convert.ToHexStringLower(Hmac(s.Secret, $"v0:{Ts(t)}:", b)))));
    public static readonly FuzzSource Calendly = new("calendly", "calendly", "fuzz_calendly_signing_key_0123",
        (s, b, t, _) => Headers(("Calendly-Webhook-Signature", $"t={Ts(t)},v1={Convert.ToHexStringLower(Hmac(s.Secret, Ts(t) + ".", b))}")));
    public static readonly FuzzSource Acuity = new("acuity", "acuity", "fuzz_acuity_api_key_0123",
        (s, b, _, _) => Headers(("X-Acuity-Signature", Convert.ToBase64String(Hmac(s.Secret, "", b)))));
    public static readonly FuzzSource Kit = new("kit", "kit", "fuzz_kit_endpoint_secret_0123",
        (s, b, t, id) => Headers(("X-Kit-Signature", $"t={Ts(t)},v1={Convert.ToHexStringLower(Hmac(s.Secret, Ts(t) + ".", b))}"), ("X-Kit-Delivery", id)));
    public static readonly FuzzSource Paddle = new("paddle", "paddle", "pdl_ntfset_01fuzz00000000000000000000_fuzzSecretValue",
        (s, b, t, _) => Headers(("Paddle-Signature", $"ts={Ts(t)};h1={Convert.ToHexStringLower(Hmac(s.Secret, Ts(t) + ":", b))}")));
    public static readonly FuzzSource LemonSqueezy = new("lemon", "lemonsqueezy", "fuzz_lemonsqueezy_secret_0123",
        (s, b, _, _) => Headers(("X-Signature", Convert.ToHexStringLower(Hmac(s.Secret, "", b)))));
    public static readonly FuzzSource WooCommerce = new("woo", "woocommerce", "fuzz_woocommerce_secret_0123",
        (s, b, _, _) => Headers(("X-WC-Webhook-Signature", Convert.ToBase64String(Hmac(s.Secret, "", b)))));
    public static readonly FuzzSource Thinkific = new("think", "thinkific", "fuzz_thinkific_api_key_0123",
        (s, b, _, _) => Headers(("X-Thinkific-Hmac-Sha256", Convert.ToHexStringLower(Hmac(s.Secret, "", b)))));
    public static readonly FuzzSource Gumroad = UrlToken("gum", "gumroad");
    public static readonly FuzzSource Kajabi = UrlToken("kaj", "kajabi");
    public static readonly FuzzSource Teachable = UrlToken("teach", "teachable");
    public static readonly FuzzSource Mailchimp = UrlToken("mc", "mailchimp");
    public static readonly FuzzSource ActiveCampaign = UrlToken("ac", "activecampaign");
    public static readonly FuzzSource KitLegacy = new("kitlegacy", "kit", "fuzz_kit_legacy_token_0123",
        (s, _, _, _) => new FuzzSigned([], "token=" + s.Secret + "&event=subscriber.tag_add&tag_id=4451"));
    public static readonly FuzzSource PayPalIpn = new("ipn", "paypal-ipn", "", (_, _, _, _) => new FuzzSigned([], ""));

    private static FuzzSource UrlToken(string id, string provider) =>
        new(id, provider, $"fuzz_{provider}_token_0123456789", (s, _, _, _) => new FuzzSigned([], "token=" + s.Secret));

    public static IReadOnlyList<FuzzSource> Sources { get; } =
    [
        Stripe, Shopify, Standard, Zoom, Calendly, Acuity, Kit, KitLegacy, Paddle, LemonSqueezy, WooCommerce, Thinkific,
        Gumroad, Kajabi, Teachable, Mailchimp, ActiveCampaign, PayPalIpn,
    ];

    /// <summary>
    /// The junction.yaml sources: section for <see cref="Sources"/>. <paramref name="fakes"/> serves
    /// IPN's post-back (<c>/cgi-bin/webscr</c>) and Acuity's API (<c>/acuity/…</c>), which Acuity
    /// requires: its webhooks name an appointment that normalization fetches.
    /// </summary>
    public static string SourcesYaml(Uri fakes)
    {
        var yaml = new StringBuilder("sources:\n");
        foreach (var s in Sources)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  {s.Id}:\n    provider: {s.Provider}\n");
            if (s.Provider == "paypal-ipn") yaml.Append(CultureInfo.InvariantCulture, $"    ipn_url: \"{new Uri(fakes, "/cgi-bin/webscr")}\"\n");
            else yaml.Append(CultureInfo.InvariantCulture, $"    secrets: [\"{s.Secret}\"]\n");
            if (s.Provider == "acuity")
            {
                yaml.Append(CultureInfo.InvariantCulture, $"    user_id: \"12345\"\n    api_key: \"{s.Secret}\"\n    api_base_url: \"{new Uri(fakes, "/acuity")}\"\n");
            }
        }
        return yaml.ToString();
    }

    public static IReadOnlyList<FuzzFixture> Fixtures { get; } = Build();

    private static List<FuzzFixture> Build()
    {
        var stripeEvent = Encoding.UTF8.GetString(StripeFixtures.Event("evt_fuzz_0001", "checkout.session.completed", StripeFixtures.CheckoutSession()));
        return
        [
            new("stripe payment_intent.succeeded", Stripe, Json, Encoding.UTF8.GetString(Payloads.StripePaymentIntentSucceeded("evt_fuzz_0000")), "evt_fuzz_0000"),
            new("stripe checkout.session.completed", Stripe, Json, stripeEvent, "evt_fuzz_0001"),
            new("stripe charge.refunded", Stripe, Json,
                Encoding.UTF8.GetString(StripeFixtures.Event("evt_fuzz_0002", "charge.refunded", StripeFixtures.Charge(4900, true, "re_1", 4900))), "evt_fuzz_0002"),
            new("shopify orders/paid", Shopify, Json, Encoding.UTF8.GetString(Payloads.ShopifyOrderPaid(820982911946154508)), "820982911946154508",
                [("X-Shopify-Topic", "orders/paid")]),
            new("standard-webhooks", Standard, Json, Encoding.UTF8.GetString(Payloads.StandardWebhooksEvent("contact.created")), null),
            new("zoom registration_created", Zoom, Json, ZoomFixtures.RegistrationCreated(), "1772900000123"),
            new("zoom participant", Zoom, Json, ZoomFixtures.Participant(), null),
            new("calendly invitee.created", Calendly, Json, CalendlyFixtures.Invitee(), CalendlyFixtures.InviteeUuid),
            new("acuity scheduled", Acuity, Form, AcuityFixtures.Webhook(), "1089357781"),
            new("kit tag batch", Kit, Json, KitTests.TagBatch(), "9c2e1f3a-6b7d-4e8f-a1b2-c3d4e5f60718"),
            new("kit legacy subscriber", KitLegacy, Json, $$"""{"subscriber":{{KitTests.Subscriber()}}}""", "987654"),
            new("paddle transaction.completed", Paddle, Json, PaddleTests.Transaction(), "evt_01hv8x2acma2gz7he0bbkw1ysn"),
            new("paddle adjustment", Paddle, Json, PaddleTests.Adjustment(), null),
            new("lemonsqueezy order_created", LemonSqueezy, Json, LemonSqueezyTests.Order(), null, [("X-Event-Name", "order_created")]),
            new("woocommerce order.updated", WooCommerce, Json, WooCommerceTests.Order(), "\"id\": 727", [("X-WC-Webhook-Topic", "order.updated")]),
            new("thinkific enrollment.created", Thinkific, Json, CoursesFixtures.ThinkificEnrollment(), "20190131191810790022472",
                [("X-Thinkific-Topic", "enrollment.created")]),
            new("thinkific order.created", Thinkific, Json, CoursesFixtures.ThinkificOrder(), "20180126172320940835610", [("X-Thinkific-Topic", "order.created")]),
            new("gumroad sale", Gumroad, Form, PaymentsKit.Form(GumroadTests.SaleFields()), "524459935"),
            new("kajabi purchase", Kajabi, Json, CoursesFixtures.KajabiPurchase(), "h_7f3a9c"),
            new("teachable sale", Teachable, Json, CoursesFixtures.TeachableSale(), "18900212"),
            new("teachable enrollment", Teachable, Json, CoursesFixtures.TeachableEnrollment(), "5501"),
            new("mailchimp subscribe", Mailchimp, Form, MailchimpTests.Subscribe(), "8a25ff1d98"),
            new("activecampaign subscribe", ActiveCampaign, Form, ActiveCampaignTests.Hook("subscribe"), null),
            new("paypal-ipn web_accept", PayPalIpn, Form, PayPalFixtures.IpnWebAccept(), "61E67681CH3238416"),
        ];
    }
}
