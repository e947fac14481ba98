// Runs a Nest app on the BUILT package (dist/, through the package's own name) on both platforms, in a
// plain Node process: no TypeScript, no decorator metadata. Prints one JSON line of statuses.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { GenAuth, GenAuthGuardModule, Public, RequirePermission } from 'genauth-guard/nest';
import { startEmulator } from 'genauth-guard/testing';
import { run } from './scenario.cjs';

console.log(JSON.stringify(await run({ Controller, Get, Module, NestFactory, ExpressAdapter, FastifyAdapter, GenAuth, GenAuthGuardModule, Public, RequirePermission, startEmulator })));
