using System.Diagnostics.Metrics;
using Junction.Intake;
using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Junction.Tests.Intake;

/// <summary>The rejection log is lossy under pressure, never blocking, and says how much it dropped.</summary>
public sealed class RejectionLogTests
{
    [Fact]
    public void Add_WithTheWriterNotDraining_NeverBlocks_AndCountsWhatItDrops()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new IntakeMetrics(services.GetRequiredService<IMeterFactory>());
        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == IntakeMetrics.MeterName && instrument.Name == "junction.intake.rejections_dropped") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();
        var store = StoreFactory.Open(TestStorage.NewSqlite(), TimeProvider.System);
        // Not started: its writer is as good as blocked, so the queue fills.
        using var log = new RejectionLog(store, metrics, NullLogger<RejectionLog>.Instance, capacity: 4);

        for (var i = 0; i < 10; i++)
        {
            log.Add(new Rejection("stripe-main", "bad_signature", "forged", TimeProvider.System.GetUtcNow(), "{}"));
        }

        Assert.Equal(6, log.Dropped);
        Assert.Equal(6, Interlocked.Read(ref counted));
    }

    [Fact]
    public async Task RejectionWriter_StandsBackWhileIntakeCommits_ThenWritesWhatItQueued()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new IntakeMetrics(services.GetRequiredService<IMeterFactory>());
        await using var store = StoreFactory.Open(TestStorage.NewSqlite(), TimeProvider.System);
        await store.MigrateAsync(CancellationToken.None);
        // Intake committing all the while (in serve: it committed within the last 50 ms) as forgeries are refused.
        var intakeBusy = true;
        using var log = new RejectionLog(store, metrics, NullLogger<RejectionLog>.Instance, capacity: 64, () => Volatile.Read(ref intakeBusy));
        await log.StartAsync(CancellationToken.None);
        for (var i = 0; i < 10; i++) log.Add(new Rejection("stripe-main", "bad_signature", "forged", TimeProvider.System.GetUtcNow(), "{}"));
        await Task.Delay(300);
        Assert.Empty(await store.ListRejectionsAsync(null, 100, CancellationToken.None)); // no write lock taken from intake meanwhile

        Volatile.Write(ref intakeBusy, false);
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(10);
        while ((await store.ListRejectionsAsync(null, 100, CancellationToken.None)).Count < 10 && TimeProvider.System.GetUtcNow() < deadline) await Task.Delay(20);
        Assert.Equal(10, (await store.ListRejectionsAsync(null, 100, CancellationToken.None)).Count);
        await log.StopAsync(CancellationToken.None);
    }
}
