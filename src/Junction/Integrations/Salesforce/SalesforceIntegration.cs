using Junction.Dispatch;

namespace Junction.Integrations.Salesforce;

/// <summary>Salesforce: contacts or leads upserted by an external id field (OAuth client credentials), read back for the audit.</summary>
public sealed class SalesforceIntegration : IIntegration
{
    public string Name => "Salesforce";

    public DestinationDescriptor? Destination { get; } = new()
    {
        Type = SalesforceDestination.Type,
        Traits = DestinationTraits.Contacts,
        DefaultBaseUrl = SalesforceDestination.DefaultBaseUrl,
        Credentials = SalesforceDestination.Credentials,
        DefaultRate = SalesforceDestination.DefaultRate,
        BaseUrlExpected = "your org's My Domain URL, e.g. https://yourorg.my.salesforce.com",
        Maps = ["tags", "fields"],
        RequiredOptions = SalesforceDestination.RequiredOptions,
        OptionalOptions = SalesforceDestination.OptionalOptions,
        Connector = SalesforceDestination.CreateConnector,
        ReadBack = SalesforceDestination.CreateReadBack,
    };
}
