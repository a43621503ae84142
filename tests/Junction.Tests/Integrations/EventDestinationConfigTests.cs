using Junction.Config;
using Junction.Integrations.Mixpanel;
using Junction.Integrations.Slack;

namespace Junction.Tests.Integrations;

/// <summary>The mixpanel and slack destination keys as the config loader reads them.</summary>
public sealed class EventDestinationConfigTests
{
    private const string Base = """
        sources:
          stripe-main:
            provider: stripe
            secrets: ["whsec_live_3f9a0c1e7b2d4a68"]

        """;

    private static readonly Dictionary<string, string> Env = new(StringComparer.Ordinal)
    {
        ["MP_USER"] = "junction.sa",
        ["MP_SECRET"] = "mp-secret",
        ["SLACK_URL"] = "https://hooks.slack.com/services/T1/B1/abc",
    };

    private static JunctionConfig Parse(string yaml) =>
        ConfigLoader.Parse(Base + yaml, "/etc/junction/junction.yaml", name => Env.GetValueOrDefault(name));

    private static IReadOnlyList<ConfigError> Errors(string yaml) => Assert.Throws<ConfigException>(() => Parse(yaml)).Errors;

    [Fact]
    public void Mixpanel_IsReadWithTheImportApisDefaults_AndEuResidencyByBaseUrl()
    {
        var config = Parse("""
            destinations:
              mp:
                type: mixpanel
                project_id: "3141592"
                token: mp-project-token
                people: true
                credentials: { username: "${MP_USER}", secret: "${MP_SECRET}" }
              mp-eu:
                type: mixpanel
                base_url: https://api-eu.mixpanel.com
                project_id: "2718"
                credentials: { username: "${MP_USER}", secret: "${MP_SECRET}" }
                events: [order.paid]
            """);

        var mp = config.Destinations["mp"];
        Assert.Equal((MixpanelDestination.Type, new Uri("https://api.mixpanel.com"), 10.0), (mp.Type, mp.BaseUrl, mp.RateLimit));
        Assert.Equal(("3141592", "mp-project-token", "true"), (mp.Options["project_id"], mp.Options["token"], mp.Options["people"]));
        Assert.Equal("mp-secret", mp.Credentials["secret"]);
        Assert.False(mp.IsState);
        var eu = config.Destinations["mp-eu"];
        Assert.Equal(new Uri("https://api-eu.mixpanel.com"), eu.BaseUrl);
        Assert.Equal(["order.paid"], eu.Events);
    }

    [Fact]
    public void Mixpanel_Errors_NameTheirKeyPaths()
    {
        var errors = Errors("""
            destinations:
              mp:
                type: mixpanel
                people: sometimes
                list_id: abc
                credentials: { secret: "${MP_SECRET}" }
            """);

        Assert.Contains(errors, e => e.Path == "destinations.mp.project_id" && e.Message.StartsWith("required for type mixpanel", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "destinations.mp.people" && e.Message == "expected true or false; got 'sometimes'");
        Assert.Contains(errors, e => e.Path == "destinations.mp.list_id" && e.Message.StartsWith("does not apply to type mixpanel", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "destinations.mp.credentials.username");
    }

    [Fact]
    public void Slack_IsReadWithTemplates_AndOneMessagePerSecond()
    {
        var config = Parse("""
            destinations:
              sales:
                type: slack
                credentials: { webhook_url: "${SLACK_URL}" }
                template_order_paid: "Sale {amount} {currency} of {product}"
                events: [order.paid, order.refunded, payment.failed]
            """);

        var slack = config.Destinations["sales"];
        Assert.Equal((SlackDestination.Type, 1.0), (slack.Type, slack.RateLimit));
        Assert.Equal("Sale {amount} {currency} of {product}", slack.Options["template_order_paid"]);
        Assert.Equal(["order.paid", "order.refunded", "payment.failed"], slack.Events);
        Assert.Empty(SlackDestination.Validate(slack));
    }

    [Fact]
    public void Slack_TemplateForNoEventType_IsAnUnknownKey_AndAnUnknownPlaceholderIsAConfigErrorAtLoad()
    {
        var error = Assert.Single(Errors("""
            destinations:
              sales:
                type: slack
                credentials: { webhook_url: "${SLACK_URL}" }
                template_order_shipped: "Shipped"
            """));
        Assert.Equal("destinations.sales.template_order_shipped", error.Path);

        var placeholder = Assert.Single(Errors("""
            destinations:
              sales:
                type: slack
                credentials: { webhook_url: "${SLACK_URL}" }
                template_order_refunded: "Refund {amount} {customer_email}"
            """));
        Assert.Equal("destinations.sales.template_order_refunded", placeholder.Path);
        Assert.StartsWith("unknown placeholder {customer_email}; expected one of {amount}", placeholder.Message, StringComparison.Ordinal);
    }
}
