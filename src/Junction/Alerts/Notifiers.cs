using System.Text.Json.Nodes;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Junction.Alerts;

/// <summary>What an incident notification says: opened, reminded (a snooze ran out while firing) or closed.</summary>
public sealed record AlertMessage(string Event, JsonObject Incident, string Title, string Text);

/// <summary>The outcome of one notifier for the timeline: "sent", or why not (never a secret).</summary>
public sealed record NotifyOutcome(string Notifier, bool Ok, string Detail)
{
    public override string ToString() => Ok ? $"{Notifier}: {Detail}" : $"{Notifier}: failed: {Detail}";
}

public static class AlertEvents
{
    public const string Opened = "incident.opened";
    public const string Reminder = "incident.reminder";
    public const string Resolved = "incident.resolved";
}

/// <summary>Sends an incident notification through each named notifier; a failure is an outcome, never an exception.</summary>
public sealed class AlertNotifiers(Config.JunctionConfig config, IHttpClientFactory http, TimeProvider time)
{
    public const string HttpClientName = "junction-alerts";

    public async Task<IReadOnlyList<NotifyOutcome>> SendAsync(AlertMessage message, IReadOnlyList<string> notifierIds, CancellationToken cancellationToken)
    {
        var outcomes = new List<NotifyOutcome>();
        foreach (var id in notifierIds)
        {
            if (!config.Alerts.Notifiers.TryGetValue(id, out var notifier))
            {
                outcomes.Add(new NotifyOutcome(id, false, "no such notifier in notifiers:"));
                continue;
            }
            try
            {
                if (notifier.Type == NotifierTypes.Email)
                {
                    outcomes.Add(await EmailAsync(notifier, message, cancellationToken));
                }
                else if (Integrations.IntegrationRegistry.Notifier(notifier.Type) is { } type)
                {
                    using var request = type.Request(notifier, message, time.GetUtcNow());
                    outcomes.Add(await PostAsync(notifier.Id, request, cancellationToken));
                }
                else
                {
                    outcomes.Add(new NotifyOutcome(id, false, $"unknown notifier type {notifier.Type}"));
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or System.Net.Sockets.SocketException
                                           or SmtpCommandException or SmtpProtocolException or AuthenticationException or SslHandshakeException)
            {
                if (cancellationToken.IsCancellationRequested) throw;
                // An SMTP reply can quote the recipient's address: only its codes go on the timeline.
                outcomes.Add(new NotifyOutcome(id, false, ex is SmtpCommandException smtp
                    ? $"SMTP {(int)smtp.StatusCode} ({smtp.ErrorCode})"
                    : ex.GetType().Name + ": " + ex.Message));
            }
        }
        return outcomes;
    }

    private async Task<NotifyOutcome> PostAsync(string id, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await http.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        return response.IsSuccessStatusCode
            ? new NotifyOutcome(id, true, "sent")
            : new NotifyOutcome(id, false, $"HTTP {(int)response.StatusCode}");
    }

    private static async Task<NotifyOutcome> EmailAsync(NotifierConfig notifier, AlertMessage message, CancellationToken cancellationToken)
    {
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(notifier.From ?? ""));
        foreach (var to in notifier.To) mail.To.Add(MailboxAddress.Parse(to));
        mail.Subject = message.Title;
        mail.Body = new TextPart("plain") { Text = message.Text };
        using var smtp = new SmtpClient { Timeout = 15_000 };
        await smtp.ConnectAsync(notifier.Host ?? "", notifier.Port, notifier.StartTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None, cancellationToken);
        if (notifier.Username is { } user) await smtp.AuthenticateAsync(user, notifier.Password ?? "", cancellationToken);
        await smtp.SendAsync(mail, cancellationToken);
        await smtp.DisconnectAsync(quit: true, cancellationToken);
        return new NotifyOutcome(notifier.Id, true, $"sent to {notifier.To.Count} recipient{(notifier.To.Count == 1 ? "" : "s")}");
    }
}
