using Junction.Dispatch;
using Junction.Integrations;

namespace Junction.Tests;

/// <summary>The destination types the tests build configs for by hand, with the traits their integrations declare.</summary>
public static class DestinationTypes
{
    public const string Kit = "kit";
    public const string Mailchimp = "mailchimp";
    public const string Teachable = "teachable";
    public const string Webhook = "webhook";
    public const string Ga4 = "ga4";

    public static DestinationTraits TraitsOf(string type) =>
        IntegrationRegistry.Destination(type)?.Traits ?? throw new ArgumentException($"no integration declares destination type '{type}'", nameof(type));
}
