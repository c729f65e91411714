#!/usr/bin/env python3
"""The benchmark workload written with pymesos: launch N tasks as fast as
offers allow (at most PER_OFFER from one offer, the rest declined for 0 s),
keep every task's latest status, count TASK_FINISHED once per task (implicit
acknowledgements, pymesos's default), stop when all finished. Prints one JSON line with the timings.

usage: pymesos_framework.py HOST:PORT TASKS [CPUS_PER_TASK MEM_PER_TASK [PER_OFFER]]
"""
import json
import resource
import sys
import threading
import time

from pymesos import MesosSchedulerDriver, Scheduler


class Bench(Scheduler):
    def __init__(self, total, cpus, mem, per_offer):
        self.total, self.cpus, self.mem, self.per_offer = total, cpus, mem, per_offer
        self.cpu_at_first_offer = None
        self.statuses = {}
        self.launched = 0
        self.finished = 0
        self.failed = 0
        self.first_offer = None
        self.offered_at = {}
        self.running_latency = []
        self.done = threading.Event()

    def resourceOffers(self, driver, offers):
        now = time.monotonic()
        if self.first_offer is None:
            self.first_offer = now
            self.cpu_at_first_offer = time.process_time()
        for offer in offers:
            cpus = sum(r.scalar.value for r in offer.resources if r.name == 'cpus')
            mem = sum(r.scalar.value for r in offer.resources if r.name == 'mem')
            tasks = []
            while (self.launched < self.total and len(tasks) < self.per_offer
                   and cpus >= self.cpus - 1e-9
                   and mem >= self.mem - 1e-9):
                task_id = 'py-%d' % self.launched
                self.launched += 1
                cpus -= self.cpus
                mem -= self.mem
                self.offered_at[task_id] = now
                tasks.append({
                    'task_id': {'value': task_id},
                    'agent_id': {'value': offer.agent_id.value},
                    'name': task_id,
                    'command': {'value': 'true'},
                    'resources': [
                        {'name': 'cpus', 'type': 'SCALAR', 'scalar': {'value': self.cpus}},
                        {'name': 'mem', 'type': 'SCALAR', 'scalar': {'value': self.mem}},
                    ],
                })
            if tasks:
                driver.launchTasks(offer.id, tasks, {'refuse_seconds': 0})
            else:
                driver.declineOffer(offer.id, {'refuse_seconds': 1})

    def statusUpdate(self, driver, update):
        state = update.state
        task_id = update.task_id.value
        previous = self.statuses.get(task_id)
        self.statuses[task_id] = update  # the latest status of every task, as ours keeps
        if previous is not None and previous.state == state:
            pass  # a resent update (its acknowledgement came late) counts once
        elif state == 'TASK_RUNNING' and task_id in self.offered_at:
            self.running_latency.append(time.monotonic() - self.offered_at.pop(task_id))
        elif state == 'TASK_FINISHED':
            self.finished += 1
        elif state in ('TASK_FAILED', 'TASK_LOST', 'TASK_ERROR', 'TASK_KILLED', 'TASK_DROPPED'):
            self.failed += 1
        if self.finished + self.failed >= self.total:
            self.done.set()


def main():
    master, total = sys.argv[1], int(sys.argv[2])
    cpus = float(sys.argv[3]) if len(sys.argv) > 3 else 0.01
    mem = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    per_offer = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    sched = Bench(total, cpus, mem, per_offer)
    framework = {'user': 'root', 'name': 'pymesos-bench', 'hostname': 'localhost'}
    driver = MesosSchedulerDriver(sched, framework, master, use_addict=True)
    driver.start()
    ok = sched.done.wait(600)
    end = time.monotonic()
    cpu_end = time.process_time()
    driver.stop()
    lat = sorted(sched.running_latency)
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else None
    print(json.dumps({
        'client': 'pymesos', 'tasks': total, 'finished': sched.finished, 'failed': sched.failed,
        'completed': ok, 'seconds': (end - sched.first_offer) if sched.first_offer else None,
        'tracked_tasks': len(sched.statuses), 'kept': 'status',
        'client_peak_rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        'client_cpu_seconds': (cpu_end - sched.cpu_at_first_offer)
        if sched.cpu_at_first_offer is not None else None,
        'p50_offer_to_running_ms': pct(0.5) * 1000 if lat else None,
        'p99_offer_to_running_ms': pct(0.99) * 1000 if lat else None,
    }))
    sys.exit(0 if ok and sched.failed == 0 else 1)


if __name__ == '__main__':
    main()
