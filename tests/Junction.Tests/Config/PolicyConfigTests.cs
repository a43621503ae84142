using Junction.Config;
using Junction.State;

namespace Junction.Tests.Config;

public sealed class PolicyConfigTests
{
    private const string Sources = """
        sources:
          stripe-main:
            provider: stripe
            secrets: ["whsec_live_3f9a0c1e7b2d4a68"]
          shop:
            provider: shopify
            secrets: ["shopify-client-secret"]

        """;

    private static JunctionConfig Parse(string yaml) => ConfigLoader.Parse(Sources + yaml, "/etc/junction/junction.yaml", _ => null);

    private static IReadOnlyList<ConfigError> Errors(string yaml) => Assert.Throws<ConfigException>(() => Parse(yaml)).Errors;

    [Fact]
    public void FullExample_IsReadIntoThePolicy()
    {
        var config = Parse("""
            tags: [customer, "paid:course-pro", "review-due:course-pro", winback, refunded]
            products:
              course-pro:
                match:
                  - { source: stripe-main, price: price_123 }
                  - { source: shop, sku: COURSE-PRO }
                tags_while_active: ["paid:course-pro"]
                revoke_on: any_refund
                revoke_after: 7d
            ownership:
              money: [payments, shop]
              subscription_preferences: [email]
            identity:
              email_limit: 3
              junk_values: ["test@example.com"]
            lifecycle:
              - { name: review-due, after: order.fulfilled, delay: 7d, add_tag: "review-due:course-pro" }
              - { name: winback, no: order.paid, for: 90d, add_tag: winback }
              - { name: abandoned, after: checkout.started, unless: order.paid, delay: 2h, emit: checkout.abandoned }
            """);

        var p = config.Policy;
        Assert.Equal(5, p.Tags.Count);
        var product = Assert.Single(p.Products);
        Assert.Equal("course-pro", product.Id);
        Assert.Equal([new ProductMatch("stripe-main", Price: "price_123"), new ProductMatch("shop", Sku: "COURSE-PRO")], product.Match);
        Assert.Equal(["paid:course-pro"], product.TagsWhileActive);
        Assert.Equal((RevokeOn.AnyRefund, TimeSpan.FromDays(7)), (product.RevokeOn, product.RevokeAfter));
        Assert.Equal(["payments", "shop"], p.Ownership.Owners[Ownership.Money]);
        Assert.Equal(["courses"], p.Ownership.Owners[Ownership.Access]); // default kept
        Assert.Equal((3, "test@example.com"), (p.Identity.EmailLimit, Assert.Single(p.Identity.JunkValues)));
        Assert.Equal(["review-due", "winback", "abandoned"], p.Lifecycle.Select(r => r.Name));
        Assert.Equal((TimeSpan.FromDays(90), "order.paid"), (p.Lifecycle[1].Delay, p.Lifecycle[1].No));
        Assert.Equal(("order.paid", "checkout.abandoned", TimeSpan.FromHours(2)), (p.Lifecycle[2].Unless, p.Lifecycle[2].Emit, p.Lifecycle[2].Delay));
    }

    [Fact]
    public void NoPolicySections_GiveTheDefaults()
    {
        var p = Parse("").Policy;

        Assert.Empty(p.Tags);
        Assert.Empty(p.Products);
        Assert.Equal(5, p.Identity.EmailLimit);
        Assert.Equal(Ownership.Default.Owners.Keys.Order(StringComparer.Ordinal), p.Ownership.Owners.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ProductTagOutsideTheVocabulary_IsAnErrorNamingItsPath()
    {
        var error = Assert.Single(Errors("""
            tags: [customer]
            products:
              course-pro:
                match: [{ source: stripe-main, price: price_123 }]
                tags_while_active: [customer, "paid:course-pro"]
            """));

        Assert.Equal("products.course-pro.tags_while_active[1]: tag 'paid:course-pro' is not in tags:", error.ToString());
    }

    [Fact]
    public void ProductMatch_ErrorsNameEachEntry()
    {
        var errors = Errors("""
            products:
              course-pro:
                match:
                  - { source: nowhere, price: p1 }
                  - { source: shop }
                  - { source: shop, sku: A, price: B }
                  - { source: shop, colour: red, sku: A }
                revoke_on: sometimes
                revoke_after: a week
              Bad_Id:
                match: []
            """).Select(e => e.ToString()).ToList();

        Assert.Contains("products.course-pro.match[0].source: source 'nowhere' is not in sources:", errors);
        Assert.Contains("products.course-pro.match[1]: expected one of price, product or sku", errors);
        Assert.Contains("products.course-pro.match[2]: expected only one of price, product or sku", errors);
        Assert.Contains(errors, e => e.StartsWith("products.course-pro.match[3].colour: unknown key", StringComparison.Ordinal));
        Assert.Contains("products.course-pro.revoke_on: expected full_refund or any_refund; got 'sometimes'", errors);
        Assert.Contains(errors, e => e.StartsWith("products.course-pro.revoke_after: expected a duration", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("products.Bad_Id: a product id is", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("products.Bad_Id.match: expected at least one", StringComparison.Ordinal));
    }

    [Fact]
    public void DuplicateTag_IsAnError()
    {
        Assert.Equal("tags[2]: tag 'a' is listed twice", Assert.Single(Errors("tags: [a, b, a]")).ToString());
    }

    [Fact]
    public void Ownership_RejectsUnknownFieldsAndOwners()
    {
        var errors = Errors("""
            ownership:
              money: [payments, accounting]
              shoe_size: [email]
            """).Select(e => e.ToString()).ToList();

        Assert.Contains(errors, e => e.StartsWith("ownership.money[1]: expected a provider kind (payments,", StringComparison.Ordinal) && e.EndsWith("got 'accounting'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ownership.shoe_size: unknown key", StringComparison.Ordinal));
    }

    [Fact]
    public void Ownership_AcceptsKindsProvidersAndSourceIds()
    {
        var p = Parse("ownership: { money: [payments, stripe, shop] }").Policy;

        Assert.Equal(["payments", "stripe", "shop"], p.Ownership.Owners[Ownership.Money]);
    }

    [Fact]
    public void Identity_LimitsAreRangeChecked()
    {
        var errors = Errors("identity: { email_limit: 0, phone_limit: lots, nickname_limit: 2 }").Select(e => e.ToString()).ToList();

        Assert.Contains("identity.email_limit: expected a whole number from 1 to 100; got '0'", errors);
        Assert.Contains("identity.phone_limit: expected a whole number from 1 to 100; got 'lots'", errors);
        Assert.Contains(errors, e => e.StartsWith("identity.nickname_limit: unknown key", StringComparison.Ordinal));
    }

    [Fact]
    public void Lifecycle_ErrorsNameTheRuleAndKey()
    {
        var errors = Errors("""
            tags: [winback]
            lifecycle:
              - { name: review-due, after: order.shipped, delay: 7d, add_tag: "review-due:course-pro" }
              - { name: winback, no: order.paid, delay: 90d, add_tag: winback }
              - { name: winback, after: order.paid, for: 9d, add_tag: winback }
              - { name: nothing, after: order.paid, delay: 1d }
              - { name: bad-delay, after: order.paid, delay: 7 days, emit: checkout.abandoned, product: nope }
            """).Select(e => e.ToString()).ToList();

        Assert.Contains(errors, e => e.StartsWith("lifecycle[0].after: expected a canonical event type", StringComparison.Ordinal) && e.EndsWith("got 'order.shipped'", StringComparison.Ordinal));
        Assert.Contains("lifecycle[0].add_tag: tag 'review-due:course-pro' is not in tags:", errors);
        Assert.Contains("lifecycle[1].delay: 'delay' goes with 'after'; use 'for' with 'no'", errors);
        Assert.Contains("lifecycle[1].for: required with 'no'; expected a duration like 90d", errors);
        Assert.Contains("lifecycle[2].name: rule name 'winback' is used twice", errors);
        Assert.Contains("lifecycle[2].for: 'for' goes with 'no'; use 'delay' with 'after'", errors);
        Assert.Contains("lifecycle[3]: expected 'add_tag' or 'emit' (what happens when the rule is due)", errors);
        Assert.Contains(errors, e => e.StartsWith("lifecycle[4].delay: expected a duration", StringComparison.Ordinal) && e.EndsWith("got '7 days'", StringComparison.Ordinal));
        Assert.Contains("lifecycle[4].product: product 'nope' is not in products:", errors);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("30m", 30 * 60)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("7d", 7 * 86400)]
    [InlineData("2w", 14 * 86400)]
    public void Durations_Parse(string text, int seconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("7")]
    [InlineData("d")]
    [InlineData("0d")]
    [InlineData("-1d")]
    [InlineData("1.5h")]
    [InlineData("7y")]
    public void Durations_RejectOtherShapes(string text) => Assert.False(Durations.TryParse(text, out _));
}
